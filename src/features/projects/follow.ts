// Cross-resource rules (api-collab §2.8 end, §2.9) installed on the engine and the channels feature:
// a project task follows its latest run in the transaction of each run status change (durable and
// exactly once, whichever replica or restart moves the run); ending a session that is a project
// member, or owns open project tasks, is refused; deleting a linked channel is refused.

import type { UpdateQueryBuilder, UpdateResult } from 'kysely';
import { outputsOfRun } from '../../store/repos/journal.ts';
import {
  getTask,
  linksOfChannel,
  membershipsOfSession,
  tasksFollowingRun,
  tasksOfSession,
} from '../../store/repos/projects.ts';
import type { RunRow } from '../../store/repos/runs.ts';
import type { Database, Executor } from '../../store/schema.ts';
import type { WriteTx } from '../../store/store.ts';
import { projectErrors as E, TERMINAL_TASK } from './errors.ts';
import type { ProjectTaskStatus } from './schema.ts';
import type { ProjectsService } from './service.ts';
import { taskView } from './views.ts';

/** Run status → task status (decision 376): an interrupted run was stopped, not failed. */
export const TASK_STATUS_OF_RUN: Record<string, ProjectTaskStatus> = {
  queued: 'pending',
  running: 'in_progress',
  waiting_for_approval: 'in_progress',
  waiting_for_user_question: 'in_progress',
  completed: 'completed',
  failed: 'failed',
  interrupted: 'cancelled',
  cancelled: 'cancelled',
};

/** Only the statuses a start leaves follow the run: a status an operator set by hand stays. */
const FOLLOWING = new Set(['pending', 'in_progress']);

export async function followRun(projects: ProjectsService, tx: WriteTx, run: RunRow): Promise<void> {
  // Starts submit `input` runs; other kinds never carry a task (one indexed lookup otherwise).
  if (run.kind !== 'input') return;
  const status = TASK_STATUS_OF_RUN[run.status];
  if (!status) return;
  for (const t of await tasksFollowingRun(tx.db, run.run_id)) {
    if (!FOLLOWING.has(t.status) || status === t.status) continue;
    // Conditional on the row as it is when written, and without the project lock: this transaction
    // already holds run rows (and their counters), so taking the lock a start takes first would
    // invert the order on PostgreSQL. A concurrent PUT writes only the columns it changes.
    const key = (q: UpdateQueryBuilder<Database, 'project_tasks', 'project_tasks', UpdateResult>) =>
      q
        .where('project_id', '=', t.project_id)
        .where('project_task_id', '=', t.project_task_id)
        .where('latest_run_id', '=', run.run_id);
    const moved = await key(tx.db.updateTable('project_tasks').set({ status, updated_at_ms: tx.now }))
      .where('status', 'in', [...FOLLOWING])
      .executeTakeFirst();
    if (Number(moved.numUpdatedRows) === 0) continue;
    if (status === 'completed') {
      const text = await finalText(tx.db, run.run_id);
      if (text !== null)
        await key(tx.db.updateTable('project_tasks').set({ output: text }))
          .where('output', 'is', null)
          .execute();
    }
    const after = await getTask(tx.db, t.project_id, t.project_task_id);
    await projects.event(
      tx,
      t.project_id,
      'task_followed_run',
      { before_status: t.status, run_status: run.status, task: after ? taskView(after) : null },
      { project_task_id: t.project_task_id, run_id: run.run_id },
    );
  }
}

/** The run's last assistant text, recorded as the task's output (JSON text), or null. */
async function finalText(db: Executor, runId: string): Promise<string | null> {
  const outputs = await outputsOfRun(db, runId);
  const last = outputs.at(-1);
  return typeof last?.content === 'string' ? JSON.stringify(last.content) : null;
}

export async function guardSessionEnd(tx: WriteTx, sessionId: string): Promise<void> {
  const member = (await membershipsOfSession(tx.db, sessionId))[0];
  if (member) throw E.sessionIsMember(sessionId, member.project_id, member.member_id);
  const open = (await tasksOfSession(tx.db, sessionId)).filter((t) => !TERMINAL_TASK.has(t.status));
  if (open.length)
    throw E.sessionOwnsTasks(
      sessionId,
      open.map((t) => `${t.project_id}/${t.project_task_id}`),
    );
}

/** The channels feature asks before deleting a channel: a reason when a project links it. */
export async function channelDeleteReason(db: Executor, channelId: string): Promise<string | null> {
  const links = await linksOfChannel(db, channelId);
  if (!links.length) return null;
  return `channel ${channelId} is linked by project(s) ${links.map((l) => l.project_id).join(', ')}; remove the link first`;
}
