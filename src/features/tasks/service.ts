// Session tasks (api-core §6.2): listing, reading, output retrieval and stop over HTTP, and the
// task tools' host (create/update/delete with blocked-by tracking). Background shell tasks are run
// by ShellTasks; this service is what the daemon wires into the `bash` tool and the routes. With
// replicas on one PostgreSQL database any replica answers for any task: output is read from the
// database, waits are woken by the shared event feed, and a stop reaches the task's owner through
// the task row (replica-watch.ts).

import { monotonicFactory } from 'ulid';
import { type HookPort, NO_HOOKS } from '../../engine/hook-port.ts';
import { KeyedWaiters } from '../../engine/keyed-waiters.ts';
import { DaemonError, errors } from '../../errors/daemon-error.ts';
import type { EventLog } from '../../store/event-log.ts';
import { getSession } from '../../store/repos/sessions.ts';
import {
  dependenciesOfSession,
  dependentsOf,
  dropDependencies,
  getTask,
  insertTask,
  listTasks,
  setBlockers,
  type TaskRow,
  tasksOfSession,
  updateTask,
} from '../../store/repos/tasks.ts';
import type { Store, WriteTx } from '../../store/store.ts';
import type {
  SessionTaskHost,
  TaskCaller,
  TaskCreateInput,
  TaskListInput,
  TaskOutputInput,
  TaskUpdateInput,
} from '../../tools/control/tasks.ts';
import type {
  ShellTaskLaunch,
  ShellTaskLauncher,
  ShellTaskLaunchRequest,
} from '../../tools/shell/task-launcher.ts';
import { findCycle, indexEdges, nextBlockers, openBlockers } from './dependencies.ts';
import { buildOutputView, type OutputQuery } from './output.ts';
import type { TaskOutputs } from './output-store.ts';
import {
  isTerminalTask,
  metadataOf,
  publishTasks,
  reconcileDependents,
  recordOf,
  recordsFor,
} from './records.ts';
import { TaskReplicaWatch } from './replica-watch.ts';
import type { TaskOutputView, TaskRecord } from './schema.ts';
import { createShellTasks, SHELL_TASK_DEFAULTS, type ShellTasks } from './shell-tasks.ts';

const ulid = monotonicFactory();

export interface TasksServiceOptions {
  store: Store;
  events: EventLog;
  stateRoot: string;
  outputMaxBytes?: number;
  maxRuntimeMs?: number;
  /** This daemon's replica id and run lease TTL (the liveness of task owners is measured in it). */
  replica?: { replicaId: string; ttlMs: number };
  log: { info(o: object, m?: string): void; warn(o: object, m?: string): void };
}

/** A forwarded stop waits this much longer than a local one: the request travels through the database. */
const FORWARDED_STOP_SLACK_MS = 1000;

const taskNotFound = (id: string) =>
  new DaemonError(404, 'tasks', 'task_not_found', `task ${id} was not found`);
const invalid = (code: string, detail: string) => new DaemonError(400, 'tasks', code, detail);
const conflict = (code: string, detail: string) => new DaemonError(409, 'tasks', code, detail);

export const DEFAULT_OUTPUT_WAIT_MS = 30_000;

export class TasksService implements SessionTaskHost, ShellTaskLauncher {
  private readonly store: Store;
  private readonly events: EventLog;
  readonly shell: ShellTasks;
  private readonly outputs: TaskOutputs;
  private readonly watch: TaskReplicaWatch;
  private readonly waiters = new KeyedWaiters();

  /** The engine's hook port (task_created / task_completed observers); none until hooks are installed. */
  hooks: () => HookPort = () => NO_HOOKS;

  constructor(o: TasksServiceOptions) {
    this.store = o.store;
    this.events = o.events;
    const { shell, outputs, replica } = createShellTasks(o);
    this.shell = shell;
    this.outputs = outputs;
    this.shell.onSettled = (id) => this.wake(id);
    this.watch = new TaskReplicaWatch({
      store: o.store,
      events: o.events,
      shell: this.shell,
      replica,
      log: o.log,
    });
  }

  launchShellTask(req: ShellTaskLaunchRequest): Promise<ShellTaskLaunch> {
    return this.shell.launchShellTask(req);
  }

  /** Boot: settles what dead daemon processes left, then (shared database) follows other replicas. */
  async recover(): Promise<number> {
    const settled = await this.shell.recover();
    // Another replica's change to a task wakes the waits of this one (output --wait, stop).
    this.watch.start((id) => this.wake(id));
    return settled;
  }

  shutdown(): Promise<void> {
    this.watch.stop();
    return this.shell.shutdown();
  }

  // ---------------------------------------------------------------- reads

  private async requireSession(sessionId: string): Promise<void> {
    if (!(await getSession(this.store.db, sessionId))) throw errors.sessionNotFound(sessionId);
  }

  private async requireTask(sessionId: string, taskId: string): Promise<TaskRow> {
    const row = await getTask(this.store.db, taskId);
    if (!row || row.session_id !== sessionId) throw taskNotFound(taskId);
    return row;
  }

  async list(
    sessionId: string,
    q: { status?: string; after?: string; limit?: number; include_archived?: boolean },
  ): Promise<{ items: TaskRecord[]; total: number }> {
    await this.requireSession(sessionId);
    const { rows, total } = await listTasks(this.store.db, { session_id: sessionId, ...q });
    return { items: await recordsFor(this.store.db, rows), total };
  }

  async get(sessionId: string, taskId: string): Promise<TaskRecord> {
    await this.requireSession(sessionId);
    return recordOf(this.store.db, await this.requireTask(sessionId, taskId));
  }

  async output(
    sessionId: string,
    taskId: string,
    q: OutputQuery,
    signal?: AbortSignal,
  ): Promise<TaskOutputView> {
    await this.requireSession(sessionId);
    let row = await this.requireTask(sessionId, taskId);
    if (q.wait && !isTerminalTask(row.status))
      row = await this.waitTerminal(row, q.timeout_ms ?? DEFAULT_OUTPUT_WAIT_MS, signal);
    return buildOutputView(await recordOf(this.store.db, row), row, q, this.outputs);
  }

  /** Resolves with the row once terminal, or as it is when the time is up or the caller left. */
  private async waitTerminal(row: TaskRow, timeoutMs: number, signal?: AbortSignal): Promise<TaskRow> {
    const deadline = Date.now() + timeoutMs;
    let current = row;
    while (!isTerminalTask(current.status) && Date.now() < deadline && !signal?.aborted) {
      // Re-read every second too: a missed wake-up can never stretch a wait past its deadline.
      await this.waiters.wait(row.task_id, {
        signal,
        recheckMs: Math.min(1000, deadline - Date.now()),
      });
      current = (await getTask(this.store.db, row.task_id)) ?? current;
    }
    return current;
  }

  private wake(taskId: string): void {
    this.waiters.notify(taskId);
  }

  // ---------------------------------------------------------------- stop

  async stop(sessionId: string, taskId: string, reason: string | undefined): Promise<TaskRecord> {
    await this.requireSession(sessionId);
    const row = await this.requireTask(sessionId, taskId);
    if (isTerminalTask(row.status)) return recordOf(this.store.db, row);
    if (row.kind === 'shell') {
      if (await this.shell.stop(taskId, reason))
        return recordOf(this.store.db, (await getTask(this.store.db, taskId))!);
      // Another replica runs it (or ran it and is gone): the owner stops it, or it is settled now.
      const route = await this.watch.requestStop(row, reason);
      if (route === 'forwarded')
        await this.waitTerminal(row, SHELL_TASK_DEFAULTS.stopWaitMs + FORWARDED_STOP_SLACK_MS);
      if (route !== 'local') return recordOf(this.store.db, (await getTask(this.store.db, taskId))!);
    }
    // A work task, or a shell task of this daemon without a live process: the stop is the final word.
    await this.store.write(async (tx) => {
      const current = await getTask(tx.db, taskId);
      if (!current || isTerminalTask(current.status)) return;
      const meta = metadataOf(current);
      await this.commit(tx, current, {
        status: 'cancelled',
        metadata: {
          ...meta,
          stop_requested: true,
          stop_reason: reason ?? null,
          stopped_at_ms: tx.now,
          terminal_reason: 'stopped',
        },
      });
    });
    this.wake(taskId);
    return recordOf(this.store.db, (await getTask(this.store.db, taskId))!);
  }

  // ---------------------------------------------------------------- the task tools' host

  async createTask(caller: TaskCaller, input: TaskCreateInput): Promise<unknown> {
    const taskId = `task-${ulid().toLowerCase()}`;
    await this.store.write(async (tx) => {
      const all = new Map((await tasksOfSession(tx.db, caller.session_id)).map((t) => [t.task_id, t]));
      const blockers = nextBlockers([], { blocked_by: input.blocked_by });
      this.checkBlockersExist(blockers, all, taskId);
      const open = openBlockers(blockers, (b) => all.get(b)?.status);
      let status: string = input.status ?? 'pending';
      if (status === 'in_progress' && open.length > 0)
        throw conflict('task_blocked', `the new task cannot start: ${describeOpen(open, all)}`);
      if (status === 'pending' && open.length > 0) status = 'blocked';
      await insertTask(tx.db, {
        task_id: taskId,
        session_id: caller.session_id,
        kind: 'work',
        title: input.title,
        description: input.description ?? '',
        status,
        owner_agent_id: input.owner_agent_id ?? caller.agent_id,
        output: null,
        metadata: JSON.stringify(input.metadata ?? {}),
        created_by_run_id: caller.run_id,
        created_at_ms: tx.now,
        updated_at_ms: tx.now,
        archived_at_ms: null,
      });
      await setBlockers(tx.db, caller.session_id, taskId, blockers);
      await publishTasks(tx, this.events, [
        { taskId, before: null },
        ...blockers.map((b) => ({ taskId: b, before: all.get(b)! })),
      ]);
    });
    await this.taskHook('task_created', caller, taskId, { title: input.title });
    return this.get(caller.session_id, taskId);
  }

  async updateTask(caller: TaskCaller, input: TaskUpdateInput): Promise<unknown> {
    const taskId = input.task_id;
    let completed = false;
    await this.store.write(async (tx) => {
      const row = await getTask(tx.db, taskId);
      if (!row || row.session_id !== caller.session_id) throw taskNotFound(taskId);
      if (row.archived_at_ms !== null) throw conflict('task_archived', `task ${taskId} was deleted`);
      const touchesDeps =
        input.blocked_by !== undefined ||
        input.add_blocked_by !== undefined ||
        input.remove_blocked_by !== undefined;
      if (row.kind === 'shell' && (input.status !== undefined || touchesDeps || input.output !== undefined))
        throw conflict(
          'shell_task_managed',
          `task ${taskId} is a background shell task: its status and output belong to the daemon (use task_stop)`,
        );
      const all = new Map((await tasksOfSession(tx.db, caller.session_id)).map((t) => [t.task_id, t]));
      const edges = await dependenciesOfSession(tx.db, caller.session_id);
      const current = indexEdges(edges).blockedBy.get(taskId) ?? [];
      const blockers = touchesDeps ? nextBlockers(current, input) : current;
      if (touchesDeps) {
        this.checkBlockersExist(blockers, all, taskId);
        const cycle = findCycle(edges, taskId, blockers);
        if (cycle)
          throw conflict(
            'task_dependency_cycle',
            `that would create a dependency cycle: ${cycle.join(' → ')}`,
          );
      }
      const open = openBlockers(blockers, (b) => all.get(b)?.status);
      let status = input.status ?? row.status;
      if ((status === 'in_progress' || status === 'completed') && open.length > 0 && status !== row.status)
        throw conflict('task_blocked', `task ${taskId} cannot be ${status} yet: ${describeOpen(open, all)}`);
      if (status === 'pending' || status === 'blocked') status = open.length > 0 ? 'blocked' : 'pending';
      completed = status === 'completed' && row.status !== 'completed';
      const meta = metadataOf(row);
      for (const [k, v] of Object.entries(input.metadata ?? {})) {
        if (v === null) delete meta[k];
        else meta[k] = v;
      }
      const changedBlockers = new Set(
        [...current, ...blockers].filter((b) => !current.includes(b) || !blockers.includes(b)),
      );
      await updateTask(tx.db, taskId, {
        title: input.title ?? row.title,
        description: input.description ?? row.description,
        owner_agent_id: input.owner_agent_id === undefined ? row.owner_agent_id : input.owner_agent_id,
        output: input.output === undefined ? row.output : JSON.stringify(input.output ?? null),
        metadata: JSON.stringify(meta),
      });
      if (touchesDeps) await setBlockers(tx.db, caller.session_id, taskId, blockers);
      await this.commit(
        tx,
        row,
        { status, metadata: meta },
        [...changedBlockers].map((b) => all.get(b)!),
      );
    });
    this.wake(taskId);
    if (completed) await this.taskHook('task_completed', caller, taskId, {});
    return this.get(caller.session_id, taskId);
  }

  /** Observers after the commit: their outcome never changes the task. */
  private async taskHook(
    event: 'task_created' | 'task_completed',
    caller: TaskCaller,
    taskId: string,
    payload: Record<string, unknown>,
  ): Promise<void> {
    const hooks = this.hooks();
    if (!hooks.has(event)) return;
    await hooks
      .fire(
        {
          event,
          identity: taskId,
          subject: taskId,
          session_id: caller.session_id,
          run_id: caller.run_id ?? undefined,
          agent_id: caller.agent_id,
          payload: { task_id: taskId, ...payload },
        },
        AbortSignal.timeout(60_000),
      )
      .catch(() => undefined);
  }

  async getTask(caller: TaskCaller, taskId: string): Promise<unknown> {
    return this.get(caller.session_id, taskId);
  }

  async listTasks(caller: TaskCaller, input: TaskListInput): Promise<unknown> {
    const { items, total } = await this.list(caller.session_id, {
      status: input.status,
      include_archived: input.include_archived,
      limit: 200,
    });
    return { tasks: items, count: items.length, total_count: total };
  }

  taskOutput(caller: TaskCaller, input: TaskOutputInput, signal: AbortSignal): Promise<unknown> {
    return this.output(caller.session_id, input.task_id, input, signal);
  }

  stopTask(caller: TaskCaller, taskId: string, reason: string | undefined): Promise<unknown> {
    return this.stop(caller.session_id, taskId, reason);
  }

  async deleteTask(caller: TaskCaller, taskId: string): Promise<unknown> {
    await this.store.write(async (tx) => {
      const row = await getTask(tx.db, taskId);
      if (!row || row.session_id !== caller.session_id) throw taskNotFound(taskId);
      if (row.archived_at_ms !== null) return;
      if (row.kind === 'shell' && !isTerminalTask(row.status))
        throw conflict('task_running', `task ${taskId} is still running: stop it with task_stop first`);
      const all = new Map((await tasksOfSession(tx.db, caller.session_id)).map((t) => [t.task_id, t]));
      const blockers =
        indexEdges(await dependenciesOfSession(tx.db, caller.session_id)).blockedBy.get(taskId) ?? [];
      const waiting = await dropDependencies(tx.db, taskId);
      const meta: Record<string, unknown> = { ...metadataOf(row), archived: true, archived_at_ms: tx.now };
      const ends = !isTerminalTask(row.status);
      if (ends) meta.terminal_reason = 'deleted';
      await updateTask(tx.db, taskId, { archived_at_ms: tx.now });
      await this.commit(
        tx,
        row,
        { status: ends ? 'cancelled' : row.status, metadata: meta },
        blockers.map((b) => all.get(b)!),
        waiting,
      );
    });
    this.wake(taskId);
    return this.get(caller.session_id, taskId);
  }

  // ---------------------------------------------------------------- helpers

  private checkBlockersExist(blockers: string[], all: Map<string, TaskRow>, self: string): void {
    if (blockers.includes(self)) throw invalid('task_dependency_cycle', `task ${self} cannot block itself`);
    const unknown = blockers.filter((b) => !all.has(b) || all.get(b)!.archived_at_ms !== null);
    if (unknown.length > 0)
      throw invalid(
        'unknown_task_dependency',
        `unknown task id(s) in blocked_by: ${unknown.join(', ')} (only tasks of this session that were not deleted)`,
      );
  }

  /**
   * Commits status + metadata of one task, reconciles the tasks waiting on it, and publishes every
   * record that changed (the task, blockers whose `blocks` changed, re-evaluated dependents).
   */
  private async commit(
    tx: WriteTx,
    before: TaskRow,
    next: { status: string; metadata: Record<string, unknown> },
    alsoChanged: TaskRow[] = [],
    extraDependents: string[] = [],
  ): Promise<void> {
    await updateTask(tx.db, before.task_id, {
      status: next.status,
      metadata: JSON.stringify(next.metadata),
      updated_at_ms: tx.now,
    });
    const dependents = await reconcileDependents(tx, before.session_id, [
      ...(await dependentsOf(tx.db, before.task_id)),
      ...extraDependents,
    ]);
    const seen = new Set([before.task_id, ...dependents.map((d) => d.taskId)]);
    await publishTasks(tx, this.events, [
      { taskId: before.task_id, before },
      ...dependents,
      ...alsoChanged.filter((r) => !seen.has(r.task_id)).map((r) => ({ taskId: r.task_id, before: r })),
    ]);
  }
}

function describeOpen(open: string[], all: Map<string, TaskRow>): string {
  return `blocked by ${open.map((b) => `${b} (${all.get(b)?.status ?? 'unknown'})`).join(', ')}; complete those first or remove them from blocked_by`;
}
