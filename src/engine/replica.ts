// This daemon as one replica of a shared database: its row in `replicas` (a heartbeat), the
// renewal of its run leases, the sweep that takes over runs of replicas that died, and what
// /v1/status shows about all of them. On SQLite the daemon is the only replica (the state-root
// lock) and none of the timers run.
import { hostname } from 'node:os';
import {
  listReplicas,
  liveLeases,
  renewLeases,
  updateReplica,
  upsertReplica,
} from '../store/repos/leases.ts';
import type { ReplicasTable } from '../store/schema.ts';
import type { ReplicaPort } from './ports.ts';
import { takeOverOrphans } from './takeover.ts';

export interface ReplicaView extends ReplicasTable {
  /** Heartbeat within one lease TTL and not stopped. */
  alive: boolean;
  /** This process. */
  self: boolean;
  /** `running` runs this replica holds the lease of. */
  live_runs: string[];
}

export interface ReplicasStatus {
  replica_id: string;
  lease_ttl_ms: number;
  replicas: ReplicaView[];
  leases: Array<{ run_id: string; replica_id: string; generation: number; expires_at_ms: number }>;
}

export class ReplicaRuntime {
  private readonly engine: ReplicaPort;
  private readonly shared: boolean;
  private readonly startedAtMs = Date.now();
  private timers: NodeJS.Timeout[] = [];
  /** Until when the leases this replica holds are known to be valid (the last renewal that committed). */
  private validUntil = 0;
  private renewing = false;
  private sweeping = false;

  constructor(engine: ReplicaPort) {
    this.engine = engine;
    this.shared = engine.store.dialect === 'postgres';
  }

  get id(): string {
    return this.engine.leases.replicaId;
  }

  /** Registers this replica; on a shared database starts the renewal and take-over timers. */
  async start(url: string | null): Promise<void> {
    const now = Date.now();
    await this.engine.store.write((tx) =>
      upsertReplica(tx.db, {
        replica_id: this.id,
        pid: process.pid,
        host: hostname(),
        url,
        started_at_ms: this.startedAtMs,
        heartbeat_at_ms: now,
        stopped_at_ms: null,
      }),
    );
    this.validUntil = now + this.engine.leases.ttlMs;
    if (!this.shared) return;
    const ttl = this.engine.leases.ttlMs;
    this.timers.push(setInterval(() => void this.renew(), Math.max(200, Math.floor(ttl / 3))));
    this.timers.push(setInterval(() => void this.sweep(), Math.max(250, Math.floor(ttl / 2))));
    for (const t of this.timers) t.unref();
  }

  /** Extends every lease held; executors whose lease was lost, or could not be renewed in time, stop. */
  private async renew(): Promise<void> {
    const leases = this.engine.leases;
    if (this.renewing) {
      // The previous renewal is still waiting (the database hangs): past the end of the leases
      // it could not extend, stop acting on them.
      if (Date.now() >= this.validUntil) this.stopAll('lease expired: renewal did not commit in time');
      return;
    }
    this.renewing = true;
    try {
      const held = leases.heldRuns();
      const now = Date.now();
      const kept = await this.engine.store.write(async (tx) => {
        await updateReplica(tx.db, this.id, { heartbeat_at_ms: tx.now });
        return renewLeases(tx.db, this.id, held, tx.now + leases.ttlMs);
      });
      this.validUntil = now + leases.ttlMs;
      for (const h of held) {
        if (kept.has(h.runId) || leases.generationOf(h.runId) !== h.generation) continue;
        leases.drop(h.runId);
        this.engine.abortExecutor(h.runId, 'lease lost to another replica');
      }
    } catch {
      // The database is unreachable: past the lease's end another replica may run these runs,
      // so this one stops them (its writes would be refused anyway) rather than act blind.
      if (Date.now() >= this.validUntil) this.stopAll('lease expired: database unreachable');
    } finally {
      this.renewing = false;
    }
  }

  private stopAll(reason: string): void {
    const leases = this.engine.leases;
    for (const h of leases.heldRuns()) {
      leases.drop(h.runId);
      this.engine.abortExecutor(h.runId, reason);
    }
  }

  /** Takes over runs of dead replicas and moves queues nobody moves. */
  async sweep(includeMine = false): Promise<void> {
    if (this.sweeping || this.engine.isDraining) return;
    this.sweeping = true;
    try {
      const stats = await takeOverOrphans(this.engine, includeMine);
      if (stats.resumed > 0) this.engine.opts.log.info({ ...stats, replica: this.id }, 'took over runs');
    } catch (err) {
      this.engine.opts.log.warn({ err: String(err) }, 'run take-over sweep failed');
    } finally {
      this.sweeping = false;
    }
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.engine.store
      .write((tx) => updateReplica(tx.db, this.id, { stopped_at_ms: tx.now, heartbeat_at_ms: tx.now }))
      .catch(() => undefined);
  }

  async status(): Promise<ReplicasStatus> {
    const now = Date.now();
    const ttl = this.engine.leases.ttlMs;
    const db = this.engine.store.db;
    const [rows, leases] = await Promise.all([listReplicas(db, now - 10 * ttl), liveLeases(db)]);
    return {
      replica_id: this.id,
      lease_ttl_ms: ttl,
      replicas: rows.map((r) => ({
        ...r,
        alive: r.stopped_at_ms === null && (r.replica_id === this.id || now - r.heartbeat_at_ms <= ttl),
        self: r.replica_id === this.id,
        live_runs: leases
          .filter((l) => l.replica_id === r.replica_id && l.expires_at_ms >= now)
          .map((l) => l.run_id),
      })),
      leases,
    };
  }
}
