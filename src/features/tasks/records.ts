// TaskRecord views and the one way a task change is committed: row update, the SSE event
// (`task_created` / `task_updated` / `task_completed`) in the same transaction, and the
// dependents whose blocked state follows from it.
import type { EventLog } from '../../store/event-log.ts';
import {
  dependenciesOfSession,
  dependenciesTouching,
  dependentsOf,
  getTask,
  type TaskRow,
  TERMINAL_TASK_STATUSES,
  tasksOfSession,
  updateTask,
} from '../../store/repos/tasks.ts';
import type { Executor } from '../../store/schema.ts';
import type { Store, WriteTx } from '../../store/store.ts';
import { indexEdges, openBlockers } from './dependencies.ts';
import type { TaskRecord } from './schema.ts';

export const isTerminalTask = (status: string): boolean => TERMINAL_TASK_STATUSES.has(status);

export const metadataOf = (row: TaskRow): Record<string, unknown> =>
  JSON.parse(row.metadata) as Record<string, unknown>;

export function toRecord(row: TaskRow, blockedBy: string[], blocks: string[]): TaskRecord {
  return {
    id: row.task_id,
    title: row.title,
    description: row.description,
    status: row.status as TaskRecord['status'],
    owner_agent_id: row.owner_agent_id,
    blocked_by: blockedBy,
    blocks,
    output: row.output === null ? null : JSON.parse(row.output),
    metadata: metadataOf(row),
    created_at_ms: row.created_at_ms,
    updated_at_ms: row.updated_at_ms,
    session_id: row.session_id,
    kind: row.kind as TaskRecord['kind'],
  };
}

export async function recordsFor(db: Executor, rows: TaskRow[]): Promise<TaskRecord[]> {
  const { blockedBy, blocks } = indexEdges(
    await dependenciesTouching(
      db,
      rows.map((r) => r.task_id),
    ),
  );
  return rows.map((r) => toRecord(r, blockedBy.get(r.task_id) ?? [], blocks.get(r.task_id) ?? []));
}

export async function recordOf(db: Executor, row: TaskRow): Promise<TaskRecord> {
  return (await recordsFor(db, [row]))[0]!;
}

/** Publishes the current record of each task: created, updated, or completed (became terminal). */
export async function publishTasks(
  tx: WriteTx,
  events: EventLog,
  changes: Array<{ taskId: string; before: TaskRow | null }>,
): Promise<TaskRecord[]> {
  const out: TaskRecord[] = [];
  for (const { taskId, before } of changes) {
    const row = await getTask(tx.db, taskId);
    if (!row) continue;
    const record = await recordOf(tx.db, row);
    const name =
      before === null
        ? 'task_created'
        : isTerminalTask(row.status) && !isTerminalTask(before.status)
          ? 'task_completed'
          : 'task_updated';
    await events.append(tx, [
      { name, session_id: row.session_id, data: { session_id: row.session_id, task: record } },
    ]);
    out.push(record);
  }
  return out;
}

/**
 * Work tasks waiting in `pending`/`blocked` follow their blockers: blocked while any blocker is
 * unfinished, pending once all are completed. Returns the tasks whose status changed (with their
 * previous rows, for publishing).
 */
export async function reconcileDependents(
  tx: WriteTx,
  sessionId: string,
  taskIds: string[],
): Promise<Array<{ taskId: string; before: TaskRow }>> {
  if (taskIds.length === 0) return [];
  const all = new Map((await tasksOfSession(tx.db, sessionId)).map((t) => [t.task_id, t]));
  const { blockedBy } = indexEdges(await dependenciesOfSession(tx.db, sessionId));
  const changed: Array<{ taskId: string; before: TaskRow }> = [];
  for (const id of new Set(taskIds)) {
    const t = all.get(id);
    if (t?.kind !== 'work' || t.archived_at_ms !== null) continue;
    if (t.status !== 'pending' && t.status !== 'blocked') continue;
    const open = openBlockers(blockedBy.get(id) ?? [], (b) => all.get(b)?.status);
    const next = open.length > 0 ? 'blocked' : 'pending';
    if (next === t.status) continue;
    await updateTask(tx.db, id, { status: next, updated_at_ms: tx.now });
    changed.push({ taskId: id, before: t });
  }
  return changed;
}

/** Commits a task's new status and metadata, reconciles its dependents, and publishes them all. */
export async function commitTaskChange(
  tx: WriteTx,
  events: EventLog,
  row: TaskRow,
  status: string,
  metadata: Record<string, unknown>,
): Promise<void> {
  await updateTask(tx.db, row.task_id, { status, metadata: JSON.stringify(metadata), updated_at_ms: tx.now });
  const dependents =
    status !== row.status
      ? await reconcileDependents(tx, row.session_id, await dependentsOf(tx.db, row.task_id))
      : [];
  await publishTasks(tx, events, [{ taskId: row.task_id, before: row }, ...dependents]);
}

/** One change to a task, decided from its current row inside the write (`skip`: none). */
export type TaskChange = (
  row: TaskRow,
  meta: Record<string, unknown>,
  now: number,
) => { status?: string; metadata: Record<string, unknown>; skip?: boolean };

/** Applies one change to a task row and publishes it; completion reconciles dependents. */
export async function changeTask(
  store: Store,
  events: EventLog,
  taskId: string,
  fn: TaskChange,
): Promise<void> {
  await store.write(async (tx) => {
    const row = await getTask(tx.db, taskId);
    if (!row) return;
    const next = fn(row, metadataOf(row), tx.now);
    if (next.skip) return;
    await commitTaskChange(tx, events, row, next.status ?? row.status, next.metadata);
  });
}
