// Session tasks and their dependency edges (migration 0006).
import type { Executor, TasksTable } from '../schema.ts';
import { readCounters } from './counters.ts';

export type TaskRow = TasksTable;

export const TASK_STATUSES = [
  'pending',
  'in_progress',
  'blocked',
  'completed',
  'failed',
  'cancelled',
] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export const TERMINAL_TASK_STATUSES: ReadonlySet<string> = new Set(['completed', 'failed', 'cancelled']);

const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));
const row = (r: TaskRow): TaskRow => ({
  ...r,
  created_at_ms: Number(r.created_at_ms),
  updated_at_ms: Number(r.updated_at_ms),
  archived_at_ms: n(r.archived_at_ms),
  owner_replica: r.owner_replica ?? null,
});

export async function insertTask(db: Executor, task: TaskRow): Promise<void> {
  await db.insertInto('tasks').values(task).execute();
}

export async function getTask(db: Executor, taskId: string): Promise<TaskRow | undefined> {
  const r = await db.selectFrom('tasks').selectAll().where('task_id', '=', taskId).executeTakeFirst();
  return r ? row(r) : undefined;
}

export async function updateTask(
  db: Executor,
  taskId: string,
  patch: Partial<Omit<TaskRow, 'task_id' | 'session_id' | 'kind' | 'created_at_ms'>>,
): Promise<void> {
  await db.updateTable('tasks').set(patch).where('task_id', '=', taskId).execute();
}

export interface TaskListFilter {
  session_id: string;
  status?: string;
  /** Sort key (task id) of the last item already seen. */
  after?: string;
  limit?: number;
  include_archived?: boolean;
}

/** Tasks of a session in `task_id` order, with the count of all matches (before cursor and limit). */
export async function listTasks(
  db: Executor,
  f: TaskListFilter,
): Promise<{ rows: TaskRow[]; total: number }> {
  let base = db.selectFrom('tasks').where('session_id', '=', f.session_id);
  if (f.status !== undefined) base = base.where('status', '=', f.status);
  if (!f.include_archived) base = base.where('archived_at_ms', 'is', null);
  const counted = await base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
  let q = base.selectAll().orderBy('task_id', 'asc');
  if (f.after !== undefined) q = q.where('task_id', '>', f.after);
  if (f.limit !== undefined) q = q.limit(f.limit);
  return { rows: (await q.execute()).map(row), total: Number(counted?.n ?? 0) };
}

/** Every task of a session, archived ones included (dependency checks). */
export async function tasksOfSession(db: Executor, sessionId: string): Promise<TaskRow[]> {
  const rows = await db
    .selectFrom('tasks')
    .selectAll()
    .where('session_id', '=', sessionId)
    .orderBy('task_id')
    .execute();
  return rows.map(row);
}

/** Shell tasks that were still pending or running (boot recovery). */
export async function liveShellTasks(db: Executor): Promise<TaskRow[]> {
  const rows = await db
    .selectFrom('tasks')
    .selectAll()
    .where('kind', '=', 'shell')
    .where('status', 'in', ['pending', 'in_progress'])
    .orderBy('task_id')
    .execute();
  return rows.map(row);
}

/**
 * Shell tasks of one replica that another replica settled while it was away, newest first (its
 * restart reaps the processes it left on its host).
 */
export async function endedShellTasksOf(db: Executor, replicaId: string, limit: number): Promise<TaskRow[]> {
  const rows = await db
    .selectFrom('tasks')
    .selectAll()
    .where('kind', '=', 'shell')
    .where('owner_replica', '=', replicaId)
    .where('status', 'in', ['failed', 'cancelled'])
    .orderBy('updated_at_ms', 'desc')
    .limit(limit)
    .execute();
  return rows.map(row);
}

/** Tasks by status (all kinds), their total and the live shell tasks, from the counters (migration 0011). */
export async function countTasksByStatus(db: Executor): Promise<Record<string, number>> {
  const counts: Record<string, number> = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0]));
  let liveShell = 0;
  let total = 0;
  // Counter names are `tasks:<kind>:<status>`; statuses never contain ':'.
  for (const [key, n] of await readCounters(db, 'tasks:')) {
    if (n === 0) continue;
    const cut = key.lastIndexOf(':');
    const kind = key.slice(0, cut);
    const status = key.slice(cut + 1);
    counts[status] = (counts[status] ?? 0) + n;
    total += n;
    if (kind === 'shell' && (status === 'pending' || status === 'in_progress')) liveShell += n;
  }
  return { total, ...counts, live_shell_tasks: liveShell };
}

// ------------------------------------------------------------------ dependency edges

export interface DependencyEdge {
  task_id: string;
  blocked_by_task_id: string;
}

export async function dependenciesOfSession(db: Executor, sessionId: string): Promise<DependencyEdge[]> {
  return db
    .selectFrom('task_dependencies')
    .select(['task_id', 'blocked_by_task_id'])
    .where('session_id', '=', sessionId)
    .orderBy('task_id')
    .orderBy('blocked_by_task_id')
    .execute();
}

/** Edges touching any of `taskIds` (as the waiting task or as the blocker). */
export async function dependenciesTouching(db: Executor, taskIds: string[]): Promise<DependencyEdge[]> {
  if (taskIds.length === 0) return [];
  return db
    .selectFrom('task_dependencies')
    .select(['task_id', 'blocked_by_task_id'])
    .where((eb) => eb.or([eb('task_id', 'in', taskIds), eb('blocked_by_task_id', 'in', taskIds)]))
    .orderBy('task_id')
    .orderBy('blocked_by_task_id')
    .execute();
}

/** The tasks waiting for `taskId`. */
export async function dependentsOf(db: Executor, taskId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('task_dependencies')
    .select('task_id')
    .where('blocked_by_task_id', '=', taskId)
    .orderBy('task_id')
    .execute();
  return rows.map((r) => r.task_id);
}

/** Replaces the blockers of one task. */
export async function setBlockers(
  db: Executor,
  sessionId: string,
  taskId: string,
  blockers: string[],
): Promise<void> {
  await db.deleteFrom('task_dependencies').where('task_id', '=', taskId).execute();
  if (blockers.length > 0)
    await db
      .insertInto('task_dependencies')
      .values(blockers.map((b) => ({ session_id: sessionId, task_id: taskId, blocked_by_task_id: b })))
      .execute();
}

/** Removes a task from the graph (both directions); returns the tasks it was blocking. */
export async function dropDependencies(db: Executor, taskId: string): Promise<string[]> {
  const waiting = await db
    .selectFrom('task_dependencies')
    .select('task_id')
    .where('blocked_by_task_id', '=', taskId)
    .execute();
  await db
    .deleteFrom('task_dependencies')
    .where((eb) => eb.or([eb('task_id', '=', taskId), eb('blocked_by_task_id', '=', taskId)]))
    .execute();
  return waiting.map((w) => w.task_id);
}
