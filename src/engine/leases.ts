// Which runs this replica executes, under which fencing generation. A run moves to `running` and
// gets its lease in the same transaction; every write of its executor checks, in its own
// transaction, that the lease still names this replica and generation (run-guard.ts). Another
// replica can take the run only by raising the generation, so an executor that was paused or cut
// off while its lease moved can never write over its successor (docs/decisions.md #89).
import { leaseOf, takeLease } from '../store/repos/leases.ts';
import type { WriteTx } from '../store/store.ts';
import { RunStopped } from './run-stopped.ts';

export interface LeaseOptions {
  replicaId: string;
  ttlMs: number;
}

export class RunLeases {
  readonly replicaId: string;
  readonly ttlMs: number;
  /** Run id → the generation this replica's executor holds. */
  private readonly held = new Map<string, number>();

  constructor(opts: LeaseOptions) {
    this.replicaId = opts.replicaId;
    this.ttlMs = opts.ttlMs;
  }

  /** Takes (or re-takes) the run's lease in `tx`; this replica holds it once `tx` commits. */
  async claim(tx: WriteTx, runId: string): Promise<number> {
    const generation = await takeLease(tx.db, runId, this.replicaId, tx.now + this.ttlMs);
    tx.afterCommit(() => this.held.set(runId, generation));
    return generation;
  }

  generationOf(runId: string): number | undefined {
    return this.held.get(runId);
  }

  /** Refuses the write (quietly stops the executor) unless this replica still holds the lease it took. */
  async fence(tx: WriteTx, runId: string): Promise<void> {
    const mine = this.held.get(runId);
    if (mine === undefined) throw new RunStopped(`run ${runId}: this replica holds no lease on it`);
    const lease = await leaseOf(tx.db, runId);
    if (lease?.replica_id !== this.replicaId || lease.generation !== mine) {
      this.held.delete(runId);
      throw new RunStopped(
        `run ${runId}: its lease moved to ${lease?.replica_id ?? 'nobody'} (generation ${lease?.generation ?? 0})`,
      );
    }
  }

  /** The executor ended (or lost the run): its lease is no longer ours to renew. */
  drop(runId: string): void {
    this.held.delete(runId);
  }

  heldRuns(): Array<{ runId: string; generation: number }> {
    return [...this.held].map(([runId, generation]) => ({ runId, generation }));
  }
}
