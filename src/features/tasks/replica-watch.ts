// Background shell tasks on a shared database (PostgreSQL replicas). Only the owner replica can
// signal a task's process tree, so:
// - a stop asked on another replica is written to the task (`metadata.stop_requested`), and the
//   owner, which sees every task event through the shared event feed, signals the tree; the task
//   then ends `cancelled` as for a local stop (docs/decisions.md);
// - a task whose owner died is settled by whichever replica notices first (a periodic check, or a
//   stop asked for it), as failed (daemon_restarted) with the reason in `metadata.error`;
// - an owner that finds its running task settled by someone else (it was taken for dead while cut
//   off from the database) kills the tree, so no process outlives its row.
// The periodic check also re-reads the owner's running tasks, in case an event was missed.
import type { BusEvent, EventLog } from '../../store/event-log.ts';
import { getTask, type TaskRow } from '../../store/repos/tasks.ts';
import type { Store } from '../../store/store.ts';
import { judgeOwners, type TaskReplica } from './ownership.ts';
import { commitTaskChange, isTerminalTask, metadataOf } from './records.ts';
import type { ShellTasks } from './shell-tasks.ts';

/** How a stop of a task without a live process here was handled. */
export type StopRoute = 'forwarded' | 'settled' | 'local';

interface TaskPayload {
  id?: unknown;
  status?: unknown;
  metadata?: unknown;
}

export class TaskReplicaWatch {
  private readonly o: {
    store: Store;
    events: EventLog;
    shell: ShellTasks;
    replica: TaskReplica;
    log: { warn(o: object, m?: string): void };
  };
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private checking = false;

  constructor(o: TaskReplicaWatch['o']) {
    this.o = o;
  }

  /**
   * Follows task events and starts the periodic check (a shared database only); `changed` hears of
   * every task change, whichever replica made it.
   */
  start(changed: (taskId: string) => void): void {
    if (!this.o.replica.shared || this.timer) return;
    this.unsubscribe = this.o.events.subscribe((ev) => this.onEvent(ev, changed));
    this.timer = setInterval(() => void this.check(), Math.max(1000, this.o.replica.ttlMs));
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  private onEvent(ev: BusEvent, changed: (taskId: string) => void): void {
    if (ev.name !== 'task_updated' && ev.name !== 'task_completed') return;
    const task = ev.data.task as TaskPayload | undefined;
    if (typeof task?.id !== 'string') return;
    changed(task.id);
    if (!this.o.shell.isLive(task.id)) return;
    const meta = (task.metadata ?? {}) as Record<string, unknown>;
    this.follow(task.id, String(task.status), meta);
  }

  private follow(taskId: string, status: string, meta: Record<string, unknown>): void {
    if (isTerminalTask(status)) this.o.shell.signalStop(taskId, 'settled');
    else if (meta.stop_requested === true) this.o.shell.signalStop(taskId, 'requested');
  }

  /** Settles tasks of dead owners; re-reads this replica's running tasks for missed requests. */
  async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      await this.o.shell.settleDeadOwners();
      for (const taskId of this.o.shell.unstopped()) {
        const row = await getTask(this.o.store.db, taskId);
        if (row) this.follow(taskId, row.status, metadataOf(row));
      }
    } catch (err) {
      this.o.log.warn({ err: String(err) }, 'background task ownership check failed');
    } finally {
      this.checking = false;
    }
  }

  /**
   * A stop for a shell task with no live process here. `local`: this replica is its owner (the
   * spawn is in flight) or the only daemon, so the caller's stop is the final word; `settled`: the
   * owner is dead and the task was settled as such (or ended meanwhile); `forwarded`: the request is
   * written and the live owner will stop it.
   */
  async requestStop(row: TaskRow, reason: string | undefined): Promise<StopRoute> {
    const me = this.o.replica;
    const { verdicts } = await judgeOwners(this.o.store.db, [row], me, Date.now());
    const verdict = verdicts.get(row.task_id);
    if (verdict === 'mine' || !me.shared) return 'local';
    if (verdict === 'dead') {
      await this.o.shell.settleDeadOwners([row.task_id]);
      return 'settled';
    }
    const forwarded = await this.o.store.write(async (tx) => {
      const current = await getTask(tx.db, row.task_id);
      if (!current || isTerminalTask(current.status)) return false;
      // The owner died meanwhile: the periodic check settles the task; the stop asks nothing more.
      const again = await judgeOwners(tx.db, [current], me, tx.now);
      if (again.verdicts.get(current.task_id) !== 'alive') return false;
      const meta = metadataOf(current);
      if (meta.stop_requested === true) return true;
      await commitTaskChange(tx, this.o.events, current, current.status, {
        ...meta,
        stop_requested: true,
        stop_requested_at_ms: tx.now,
        stop_reason: reason ?? null,
        stop_requested_by_replica: me.replicaId,
      });
      return true;
    });
    return forwarded ? 'forwarded' : 'settled';
  }
}
