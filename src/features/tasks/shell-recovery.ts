// Shell tasks whose daemon process is gone. A background shell task lives in the process tree of
// the replica that started it (`tasks.owner_replica`), so it cannot outlive that process: at boot a
// replica settles its own leftovers, rows from before replicas and those of dead replicas as failed
// (daemon_restarted); on a shared database it settles later deaths the same way from a periodic
// check (replica-watch.ts). A live replica's task is never touched (ownership.ts says who is live).
import type { TaskRow } from '../../store/repos/tasks.ts';
import { endedShellTasksOf, getTask, liveShellTasks } from '../../store/repos/tasks.ts';
import {
  type ShutdownEvidence,
  shutdownMarkedProcesses,
  shutdownRecordedGroup,
} from '../../tools/shell/background-process.ts';
import type { LogState } from '../../tools/shell/rotating-log.ts';
import { DEAD_AFTER_TTLS, judgeOwners, processesReachable, unreachableEvidence } from './ownership.ts';
import { changeTask, commitTaskChange, isTerminalTask, metadataOf } from './records.ts';
import type { ShellTaskOptions } from './shell-tasks.ts';

/** Why a task's owner is gone, for `metadata.error`. */
const ownerGone = (owner: string | null, me: string): string =>
  `replica ${owner}, which ran this background task, is gone (stopped, or no heartbeat for ${DEAD_AFTER_TTLS} lease TTLs); replica ${me} settled the task`;

/** The tree was stopped by a graceful shutdown of its daemon (shell-tasks.ts shutdown()). */
const stoppedAtShutdown = (row: TaskRow): boolean =>
  typeof metadataOf(row).stopped_at_shutdown_ms === 'number';

export const outputCounters = (s: LogState) => ({
  output_size_bytes: s.size_bytes,
  output_total_bytes: s.total_bytes,
  output_rotated: s.rotated,
  output_rotation_count: s.rotation_count,
});

export class ShellRecovery {
  private readonly o: ShellTaskOptions;
  private readonly onSettled: (taskId: string) => void;

  constructor(o: ShellTaskOptions, onSettled: (taskId: string) => void) {
    this.o = o;
    this.onSettled = onSettled;
  }

  /**
   * Boot: shell tasks of a daemon process that is gone become failed (daemon_restarted,
   * recovered_on_boot): this replica's own, rows from before replicas, and those of dead replicas —
   * never a live replica's. A process tree still alive is killed first, only when it is provably
   * ours and on this host.
   */
  async recover(graceMs = 2000): Promise<number> {
    const settled = await this.settleOrphans(await liveShellTasks(this.o.store.db), true, graceMs);
    await this.reapOwnLeftovers(graceMs);
    return settled;
  }

  /** Later (shared database): tasks whose owner died since (or only these) are settled the same way. */
  async settleDeadOwners(only?: string[], graceMs = 2000): Promise<number> {
    const rows = (await liveShellTasks(this.o.store.db)).filter(
      (r) => r.owner_replica !== this.o.replica.replicaId && (!only || only.includes(r.task_id)),
    );
    return rows.length === 0 ? 0 : this.settleOrphans(rows, false, graceMs);
  }

  private async settleOrphans(rows: TaskRow[], boot: boolean, graceMs: number): Promise<number> {
    const me = this.o.replica;
    const { verdicts, owners } = await judgeOwners(this.o.store.db, rows, me, Date.now());
    // At boot this replica's own rows are leftovers of its previous process; later they are live here.
    const targets = rows.filter((r) =>
      boot ? verdicts.get(r.task_id) !== 'alive' : verdicts.get(r.task_id) === 'dead',
    );
    if (targets.length === 0) return 0;
    const evidence = await Promise.all(
      targets.map((row) =>
        // A graceful shutdown already stopped the tree and recorded how: keep that evidence.
        stoppedAtShutdown(row)
          ? {}
          : processesReachable(row, owners.get(row.owner_replica ?? ''), me)
            ? this.reapLeftover(row, graceMs)
            : unreachableEvidence(),
      ),
    );
    const states = await Promise.all(
      targets.map((row) => {
        this.o.outputs.tidy(row);
        return this.o.outputs.state(row);
      }),
    );
    const done: TaskRow[] = [];
    await this.o.store.write(async (tx) => {
      // Judged again in the transaction: an owner that came back meanwhile keeps its task.
      const fresh: TaskRow[] = [];
      for (const row of targets) {
        const current = await getTask(tx.db, row.task_id);
        if (current && !isTerminalTask(current.status) && current.owner_replica === row.owner_replica)
          fresh.push(current);
      }
      const again = await judgeOwners(tx.db, fresh, me, tx.now);
      for (const current of fresh) {
        const verdict = again.verdicts.get(current.task_id);
        if (verdict === 'alive' || (!boot && verdict === 'mine')) continue;
        const i = targets.findIndex((t) => t.task_id === current.task_id);
        const owner = current.owner_replica ?? null;
        const meta = metadataOf(current);
        await commitTaskChange(tx, this.o.events, current, 'failed', {
          ...meta,
          ...outputCounters(states[i]!),
          // The exit seen at a graceful shutdown; after a crash nobody saw one.
          exit_code: stoppedAtShutdown(current) ? (meta.exit_code ?? null) : null,
          terminal_reason: 'daemon_restarted',
          recovered_on_boot: boot,
          recovered_at_ms: tx.now,
          settled_by_replica: me.replicaId,
          ...(owner !== null && owner !== me.replicaId ? { error: ownerGone(owner, me.replicaId) } : {}),
          ...evidence[i],
        });
        done.push(current);
      }
    });
    for (const row of done)
      this.o.log.warn(
        { task_id: row.task_id, session_id: row.session_id, owner_replica: row.owner_replica },
        'a background shell task did not survive the daemon process that ran it: marked failed (daemon_restarted)',
      );
    for (const row of done) this.onSettled(row.task_id);
    return done.length;
  }

  /**
   * Boot: tasks of this replica that another replica settled while this one was gone, from another
   * host (it could not reach the processes): their trees, if still here and provably ours, are
   * killed now.
   */
  private async reapOwnLeftovers(graceMs: number): Promise<void> {
    if (!this.o.replica.shared) return;
    const rows = (await endedShellTasksOf(this.o.store.db, this.o.replica.replicaId, 200)).filter(
      (r) => metadataOf(r).process_tree_reap_pending === true,
    );
    for (const row of rows) {
      const evidence = await this.reapLeftover(row, graceMs);
      await changeTask(this.o.store, this.o.events, row.task_id, (_row, meta, now) => ({
        metadata: { ...meta, ...evidence, process_tree_reap_pending: false, process_tree_reaped_at_ms: now },
      }));
    }
  }

  private reapLeftover(row: TaskRow, graceMs: number): Promise<ShutdownEvidence> {
    const meta = metadataOf(row);
    const pgid = meta.process_group_id;
    if (
      typeof pgid === 'number' &&
      typeof meta.process_start_ticks === 'number' &&
      typeof meta.boot_id === 'string'
    )
      return shutdownRecordedGroup(
        { pgid, start_ticks: meta.process_start_ticks, boot_id: meta.boot_id },
        row.task_id,
        graceMs,
      );
    return shutdownMarkedProcesses(row.task_id, graceMs);
  }
}
