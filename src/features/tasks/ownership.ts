// Which replica a background shell task belongs to, and whether that replica is still there. A
// shell task runs in the process tree of the replica that started it (`tasks.owner_replica`);
// nothing else can watch or stop that tree. So a replica settles a task it does not own only once
// the owner is dead, and asks a live owner to stop a task through the database (docs/decisions.md).
import { hostname } from 'node:os';
import { replicasByIds } from '../../store/repos/leases.ts';
import type { TaskRow } from '../../store/repos/tasks.ts';
import type { Executor, ReplicasTable } from '../../store/schema.ts';
import type { ShutdownEvidence } from '../../tools/shell/background-process.ts';
import { bootId } from '../../tools/shell/process-identity.ts';
import { metadataOf } from './records.ts';

/** A replica whose heartbeat is older than this many lease TTLs is dead (heartbeats come every TTL/3). */
export const DEAD_AFTER_TTLS = 3;

export interface TaskReplica {
  /** This daemon's replica id. */
  replicaId: string;
  /** The run lease TTL: the heartbeat cadence the liveness rule is measured in. */
  ttlMs: number;
  /** Several replicas may share the database (PostgreSQL). On SQLite this daemon is the only one. */
  shared: boolean;
}

export type OwnerVerdict = 'mine' | 'alive' | 'dead';

export function replicaIsDead(r: ReplicasTable | undefined, now: number, ttlMs: number): boolean {
  if (!r) return true;
  if (r.stopped_at_ms !== null) return true;
  return now - r.heartbeat_at_ms > DEAD_AFTER_TTLS * ttlMs;
}

/**
 * The verdict on each task's owner: this replica, a live one, or a dead one. A row without an owner
 * (written before replicas existed) and, on SQLite, any other id (a previous process of this daemon:
 * the state-root lock lets only one run) are dead.
 */
export async function judgeOwners(
  db: Executor,
  rows: TaskRow[],
  me: TaskReplica,
  now: number,
): Promise<{ verdicts: Map<string, OwnerVerdict>; owners: Map<string, ReplicasTable> }> {
  const others = [
    ...new Set(
      rows.map((r) => r.owner_replica).filter((o): o is string => !!o && o !== me.replicaId && me.shared),
    ),
  ];
  const owners = new Map((await replicasByIds(db, others)).map((r) => [r.replica_id, r]));
  const verdicts = new Map<string, OwnerVerdict>();
  for (const row of rows) {
    const owner = row.owner_replica ?? null;
    if (owner === me.replicaId) verdicts.set(row.task_id, 'mine');
    else if (owner === null || !me.shared) verdicts.set(row.task_id, 'dead');
    else verdicts.set(row.task_id, replicaIsDead(owners.get(owner), now, me.ttlMs) ? 'dead' : 'alive');
  }
  return { verdicts, owners };
}

/**
 * Whether this host can see the task's processes: the recorded kernel boot id is this machine's
 * (on another machine a pid names someone else's process), or, with no identity recorded (a crash
 * right after the spawn), the owner replica ran on this host name.
 */
export function processesReachable(row: TaskRow, owner: ReplicasTable | undefined, me: TaskReplica): boolean {
  if (row.owner_replica === me.replicaId || row.owner_replica === null || !me.shared) return true;
  const meta = metadataOf(row);
  if (typeof meta.boot_id === 'string') return meta.boot_id === bootId();
  return owner?.host === hostname();
}

/** Evidence for a tree this host cannot reach: nothing was signalled; its owner's restart reaps it. */
export function unreachableEvidence(): ShutdownEvidence & { process_tree_reap_pending: true } {
  return {
    process_tree_shutdown_supported: process.platform !== 'win32',
    process_tree_shutdown_matched_target: false,
    process_tree_shutdown_signal_sent: false,
    process_tree_shutdown_confirmed: false,
    process_tree_remaining_pids: [],
    process_tree_reap_pending: true,
  };
}
