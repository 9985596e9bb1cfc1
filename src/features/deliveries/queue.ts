// The delivery queue worker (api-collab §8). Deliveries are rows written with their output; the
// worker claims due ones (the oldest open delivery of each target only: one in flight per target,
// FIFO), marks the attempt started durably (with its signed audit record) before the plugin
// sends, and settles the outcome in a second transaction. An attempt found started with no outcome
// (the process died) is sent again only when the receiver deduplicates; otherwise it waits for an
// operator as a dead letter `outcome_unknown_after_restart` (docs/decisions.md #287).
import { createHash } from 'node:crypto';
import type { ExternalAudit } from '../../engine/external-audit.ts';
import type { EngineLog } from '../../engine/ports.ts';
import { deliveryOutcome, withDeliverySpan } from '../../engine/telemetry.ts';
import type { EventLog } from '../../store/event-log.ts';
import {
  claimableDeliveries,
  type DeliveryRow,
  getDelivery,
  nextDueAt,
  orphanedAttempts,
  updateDelivery,
} from '../../store/repos/deliveries.ts';
import type { Store, WriteTx } from '../../store/store.ts';
import type { SpanHandle } from '../../telemetry/tracing.ts';
import {
  deliveryTrace,
  OUTCOME_UNKNOWN,
  OUTCOME_UNKNOWN_LIVE,
  type StoredPayload,
  unknownOutcome,
} from './delivery-rules.ts';
import type { DeliveryItem, DeliveryOutcome, OutputPlugin } from './port.ts';
import { type DeliverySettings, retryDelay } from './settings.ts';

/** Deliveries one replica sends at the same time (different targets). */
const CONCURRENCY = 8;
/** How often an idle worker looks for work other replicas queued or abandoned. */
const POLL_MS = { sqlite: 5_000, postgres: 1_000 } as const;
/** Grace for attempts in flight at shutdown before they are cut off (they are then settled at the next start). */
const SHUTDOWN_GRACE_MS = 10_000;

export interface QueueDeps {
  store: Store;
  events: EventLog;
  audit: ExternalAudit;
  log: EngineLog;
  replicaId: string;
  settings: DeliverySettings;
  plugins: ReadonlyMap<string, OutputPlugin>;
  readAsset(assetId: string): Promise<Uint8Array>;
}

const shortDigest = (d: string) => d.slice(0, 16);
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export class DeliveryQueue {
  private readonly d: QueueDeps;
  private readonly inflight = new Map<string, { done: Promise<void>; controller: AbortController }>();
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private again = false;
  private stopped = true;
  private lastSweep = 0;
  /** Figures for status: the last worker error (redacted) and how many there were. */
  errorCount = 0;
  lastError: string | null = null;

  constructor(deps: QueueDeps) {
    this.d = deps;
  }

  get inflightCount(): number {
    return this.inflight.size;
  }

  /** At start-up: attempts the previous process of this replica left without an outcome. */
  async settleOrphans(startup: boolean): Promise<number> {
    const sqlite = this.d.store.dialect === 'sqlite';
    // SQLite has one writer: every attempt in flight at start-up belonged to a dead process.
    const now = startup && sqlite ? Number.MAX_SAFE_INTEGER : Date.now();
    const orphans = await orphanedAttempts(this.d.store.db, now, startup ? this.d.replicaId : null);
    let settled = 0;
    for (const row of orphans) {
      if (this.inflight.has(row.delivery_id)) continue;
      const done = await this.d.store.write(async (tx) => {
        const plugin = this.d.plugins.get(row.plugin);
        const guard = { lease_owner: row.lease_owner ?? '', in_flight_since_ms: row.in_flight_since_ms! };
        const target = { plugin: row.plugin, address: row.address };
        const resend = plugin ? (plugin.deduplicates?.(target) ?? plugin.receiverDeduplicates) : false;
        const patch: Partial<DeliveryRow> = resend
          ? {
              status: 'retrying',
              next_attempt_at_ms: tx.now,
              last_error_code: OUTCOME_UNKNOWN,
              last_error: 'the daemon stopped during an attempt; sent again (the receiver deduplicates)',
            }
          : {
              status: 'dead_lettered',
              needs_operator: 1,
              dead_lettered_at_ms: tx.now,
              last_error_code: OUTCOME_UNKNOWN,
              last_error:
                'the daemon stopped during an attempt and this target cannot deduplicate: not sent again; replay or resolve it',
            };
        const ok = await updateDelivery(
          tx.db,
          row.delivery_id,
          {
            ...patch,
            in_flight_since_ms: null,
            lease_owner: null,
            lease_expires_at_ms: null,
            updated_at_ms: tx.now,
          },
          guard,
        );
        if (!ok) return false;
        await this.auditOutcome(tx, row, 'failed', { error_code: OUTCOME_UNKNOWN, resent: resend });
        await deliveryTrace(this.d.events, tx, (await getDelivery(tx.db, row.delivery_id))!);
        return true;
      });
      if (done) settled++;
    }
    if (settled > 0) this.d.log.warn({ settled }, 'deliveries: settled attempts whose outcome was unknown');
    return settled;
  }

  start(): void {
    this.stopped = false;
    this.wake();
  }

  /** Asks for a pass now (after a commit that queued or unblocked work). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.pass(), 0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Waits for attempts in flight (bounded), then cuts the rest off; they are settled at the next start. */
  async shutdown(): Promise<void> {
    this.stop();
    const all = [...this.inflight.values()];
    const grace = new Promise<void>((r) => setTimeout(r, SHUTDOWN_GRACE_MS).unref());
    await Promise.race([Promise.allSettled(all.map((f) => f.done)), grace]);
    for (const f of this.inflight.values()) f.controller.abort(new Error('daemon shutting down'));
    await Promise.allSettled(all.map((f) => f.done));
  }

  private async pass(): Promise<void> {
    this.timer = null;
    if (this.stopped) return;
    this.running = true;
    try {
      do {
        this.again = false;
        const now = Date.now();
        if (this.d.store.dialect === 'postgres' && now - this.lastSweep > 5_000) {
          this.lastSweep = now;
          await this.settleOrphans(false);
        }
        const free = CONCURRENCY - this.inflight.size;
        // Most passes find nothing due: look without a write first (the claim looks again).
        const due = free > 0 && (await claimableDeliveries(this.d.store.db, Date.now(), 1)).length > 0;
        if (due) for (const row of await this.claim(free)) this.launch(row);
      } while (this.again && !this.stopped);
    } catch (err) {
      this.errorCount++;
      this.lastError = (err as Error).message;
      this.d.log.error({ err: this.lastError }, 'deliveries: worker pass failed');
    } finally {
      this.running = false;
    }
    if (!this.stopped) await this.schedule();
  }

  private async schedule(): Promise<void> {
    const poll = POLL_MS[this.d.store.dialect];
    let wait: number = poll;
    try {
      const due = await nextDueAt(this.d.store.db);
      if (due !== null) wait = Math.max(0, Math.min(poll, due - Date.now()));
    } catch {
      // The database did not answer: look again after the poll interval.
    }
    // A wake() while the next due time was read already set a sooner timer: keep it.
    if (this.stopped || this.running || this.timer) return;
    this.timer = setTimeout(() => void this.pass(), wait);
    this.timer.unref();
  }

  /** Claims due heads and marks each attempt started (with its audit record) in one commit. */
  private claim(limit: number): Promise<DeliveryRow[]> {
    const leaseMs = this.d.settings.attemptTimeoutMs * 2 + 5_000;
    return this.d.store.write(async (tx) => {
      const rows = (await claimableDeliveries(tx.db, tx.now, limit + this.inflight.size)).filter(
        (r) => !this.inflight.has(r.delivery_id),
      );
      const claimed: DeliveryRow[] = [];
      // With the audit closed nothing is claimed (the append below refuses): the rows stay due.
      if (rows.length > 0) this.d.audit.require();
      for (const r of rows.slice(0, limit)) {
        const patch = {
          attempts: r.attempts + 1,
          in_flight_since_ms: tx.now,
          lease_owner: this.d.replicaId,
          lease_expires_at_ms: tx.now + leaseMs,
          updated_at_ms: tx.now,
        };
        await updateDelivery(tx.db, r.delivery_id, patch);
        const row = { ...r, ...patch };
        await this.d.audit.append(
          tx.db,
          { ...this.action(row), phase: 'started', outcome: 'pending' },
          tx.now,
        );
        claimed.push(row);
      }
      return claimed;
    });
  }

  private launch(row: DeliveryRow): void {
    const controller = new AbortController();
    const done = withDeliverySpan(this.d.store.db, row, (span) => this.attempt(row, controller.signal, span))
      .catch((err) => {
        this.errorCount++;
        this.lastError = (err as Error).message;
        this.d.log.error({ delivery_id: row.delivery_id, err: this.lastError }, 'deliveries: attempt failed');
      })
      .finally(() => {
        this.inflight.delete(row.delivery_id);
        this.wake();
      });
    this.inflight.set(row.delivery_id, { done, controller });
  }

  private async attempt(row: DeliveryRow, signal: AbortSignal, span: SpanHandle): Promise<void> {
    const plugin = this.d.plugins.get(row.plugin);
    let outcome: DeliveryOutcome;
    if (!plugin) outcome = { status: 'terminal', error_code: 'plugin_unavailable' };
    else {
      const payload = JSON.parse(row.payload) as StoredPayload;
      const item: DeliveryItem = {
        delivery_id: row.delivery_id,
        attempt: row.attempts,
        run_id: row.run_id,
        session_id: row.session_id,
        target: { plugin: row.plugin, address: row.address },
        content: payload.content,
        parts: payload.parts,
        artifacts: payload.artifacts,
        metadata: payload.metadata,
        progress: row.progress ? JSON.parse(row.progress) : {},
      };
      // The queue's own bound, a little past the plugin's: a plugin that neither answers nor
      // honours its signal must not outlive the claim's lease (another replica would take it).
      const bound = AbortSignal.timeout(this.d.settings.attemptTimeoutMs + 5_000);
      const both = AbortSignal.any([signal, bound]);
      try {
        outcome = await Promise.race([
          plugin.deliver(item, {
            signal: both,
            saveProgress: (progress) => this.saveProgress(row, progress),
            readAsset: (id) => this.d.readAsset(id),
          }),
          new Promise<never>((_, reject) =>
            both.addEventListener('abort', () => reject(both.reason), { once: true }),
          ),
        ]);
      } catch {
        // Cut off at shutdown: the row stays in flight and the next start applies the rule.
        if (signal.aborted) return;
        this.d.log.warn({ delivery_id: row.delivery_id, plugin: row.plugin }, 'deliveries: plugin failed');
        // It may have sent before failing: only a deduplicating receiver may get it again.
        outcome = unknownOutcome(plugin, item.target, bound.aborted ? 'attempt_timeout' : 'plugin_error');
      }
    }
    deliveryOutcome(span, outcome);
    await this.settle(row, outcome);
  }

  private async saveProgress(row: DeliveryRow, progress: Record<string, unknown>): Promise<void> {
    const ok = await this.d.store.write((tx) =>
      updateDelivery(
        tx.db,
        row.delivery_id,
        { progress: JSON.stringify(progress), updated_at_ms: tx.now },
        { lease_owner: this.d.replicaId, in_flight_since_ms: row.in_flight_since_ms! },
      ),
    );
    if (!ok) throw new Error(`delivery ${row.delivery_id}: this replica no longer holds its attempt`);
  }

  private async settle(row: DeliveryRow, outcome: DeliveryOutcome): Promise<void> {
    const s = this.d.settings;
    await this.d.store.write(async (tx) => {
      const base = {
        in_flight_since_ms: null,
        lease_owner: null,
        lease_expires_at_ms: null,
        updated_at_ms: tx.now,
      };
      let patch: Partial<DeliveryRow>;
      if (outcome.status === 'delivered') {
        patch = {
          ...base,
          status: 'delivered',
          delivered_at_ms: tx.now,
          last_error_code: null,
          last_error: null,
        };
      } else if (outcome.status === 'retry' && row.attempts < s.maxAttempts) {
        const wait = retryDelay(s, row.attempts, outcome.retry_after_ms);
        patch = {
          ...base,
          status: 'retrying',
          next_attempt_at_ms: tx.now + wait,
          last_error_code: outcome.error_code,
          last_error: `attempt ${row.attempts} failed (${outcome.error_code}); next in ${wait} ms`,
        };
      } else {
        const why =
          outcome.status === 'retry'
            ? `attempt ${row.attempts} of ${s.maxAttempts} failed (${outcome.error_code}); retries exhausted`
            : `attempt ${row.attempts} failed terminally (${outcome.error_code})`;
        patch = {
          ...base,
          status: 'dead_lettered',
          dead_lettered_at_ms: tx.now,
          last_error_code: outcome.error_code,
          last_error: why,
          // The target may have it: only an operator knows whether to send it again.
          needs_operator: [OUTCOME_UNKNOWN, OUTCOME_UNKNOWN_LIVE].includes(outcome.error_code) ? 1 : 0,
        };
      }
      const guard = { lease_owner: this.d.replicaId, in_flight_since_ms: row.in_flight_since_ms! };
      // Fenced: a replica that took the attempt over after the lease expired owns it now.
      if (!(await updateDelivery(tx.db, row.delivery_id, patch, guard))) return;
      const response =
        outcome.status === 'delivered'
          ? { status: 'delivered', ...(outcome.detail ?? {}) }
          : { status: outcome.status, error_code: outcome.error_code };
      await this.auditOutcome(tx, row, outcome.status === 'delivered' ? 'succeeded' : 'failed', response);
      await deliveryTrace(this.d.events, tx, { ...row, ...patch } as DeliveryRow);
    });
  }

  /** The audit's view of an attempt: the plugin and target digest, never the address. */
  private action(row: DeliveryRow) {
    return {
      run_id: row.run_id,
      session_id: row.session_id,
      agent_id: null,
      tool_call_id: null,
      kind: 'output_delivery',
      target: `${row.plugin}:${shortDigest(row.target_digest)}`,
      request: {
        delivery_id: row.delivery_id,
        attempt: row.attempts,
        plugin: row.plugin,
        target_digest: row.target_digest,
        payload_sha256: sha256(row.payload),
      },
    };
  }

  private async auditOutcome(
    tx: WriteTx,
    row: DeliveryRow,
    outcome: 'succeeded' | 'failed',
    response: Record<string, unknown>,
  ): Promise<void> {
    await this.d.audit.append(tx.db, { ...this.action(row), phase: 'completed', response, outcome }, tx.now);
  }
}
