// Projects, members, linked channels, project tasks and the project event log (migration 0032).
// Rows as stored; JSON columns stay JSON text here, the projects feature parses them.
import { dialectOf } from '../dialect.ts';
import type {
  Executor,
  ProjectChannelLinksTable,
  ProjectMembersTable,
  ProjectsTable,
  ProjectTasksTable,
} from '../schema.ts';

export type ProjectRow = ProjectsTable;
export type ProjectMemberRow = ProjectMembersTable;
export type ProjectLinkRow = ProjectChannelLinksTable;
export type ProjectTaskRow = ProjectTasksTable;

const ms = <T extends { created_at_ms: number; updated_at_ms: number }>(r: T): T => ({
  ...r,
  created_at_ms: Number(r.created_at_ms),
  updated_at_ms: Number(r.updated_at_ms),
});
const positioned = <T extends { position: number; created_at_ms: number; updated_at_ms: number }>(
  r: T,
): T => ({
  ...ms(r),
  position: Number(r.position),
});
const linkRow = (r: ProjectLinkRow): ProjectLinkRow => ({
  ...positioned(r),
  default_for_new_tasks: Number(r.default_for_new_tasks),
  mirror_members: Number(r.mirror_members),
});

/**
 * The project row; with `lock`, locked until the transaction ends on PostgreSQL, so the writes of
 * one project (dependency graphs, the default link, a start) are serialized as SQLite's one
 * writer serializes them anyway.
 */
export async function getProject(
  db: Executor,
  id: string,
  opts: { lock?: boolean } = {},
): Promise<ProjectRow | undefined> {
  let q = db.selectFrom('projects').selectAll().where('project_id', '=', id);
  if (opts.lock && dialectOf(db) === 'postgres') q = q.forUpdate();
  const r = await q.executeTakeFirst();
  return r && ms(r);
}

/** Inserts unless the id is taken; false when it was. */
export async function insertProject(db: Executor, row: ProjectRow): Promise<boolean> {
  const res = await db
    .insertInto('projects')
    .values(row)
    .onConflict((oc) => oc.column('project_id').doNothing())
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
}

export async function allProjects(db: Executor): Promise<ProjectRow[]> {
  const rows = await db.selectFrom('projects').selectAll().execute();
  return rows
    .map(ms)
    .sort((a, b) => (a.project_id < b.project_id ? -1 : a.project_id > b.project_id ? 1 : 0));
}

export async function membersOf(db: Executor, projectId: string): Promise<ProjectMemberRow[]> {
  const rows = await db
    .selectFrom('project_members')
    .selectAll()
    .where('project_id', '=', projectId)
    .orderBy('position', 'asc')
    .execute();
  return rows.map(positioned);
}

export async function linksOf(db: Executor, projectId: string): Promise<ProjectLinkRow[]> {
  const rows = await db
    .selectFrom('project_channel_links')
    .selectAll()
    .where('project_id', '=', projectId)
    .orderBy('position', 'asc')
    .execute();
  return rows.map(linkRow);
}

export async function tasksOf(db: Executor, projectId: string): Promise<ProjectTaskRow[]> {
  const rows = await db
    .selectFrom('project_tasks')
    .selectAll()
    .where('project_id', '=', projectId)
    .orderBy('created_at_ms', 'asc')
    .orderBy('project_task_id', 'asc')
    .execute();
  return rows.map(ms);
}

export async function getTask(
  db: Executor,
  projectId: string,
  taskId: string,
): Promise<ProjectTaskRow | undefined> {
  const r = await db
    .selectFrom('project_tasks')
    .selectAll()
    .where('project_id', '=', projectId)
    .where('project_task_id', '=', taskId)
    .executeTakeFirst();
  return r && ms(r);
}

export async function tasksFollowingRun(db: Executor, runId: string): Promise<ProjectTaskRow[]> {
  const rows = await db.selectFrom('project_tasks').selectAll().where('latest_run_id', '=', runId).execute();
  return rows.map(ms);
}

/** Projects that have the session as a member (any member kind that names it). */
export async function membershipsOfSession(db: Executor, sessionId: string): Promise<ProjectMemberRow[]> {
  const rows = await db
    .selectFrom('project_members')
    .selectAll()
    .where('session_id', '=', sessionId)
    .execute();
  return rows.map(positioned);
}

export async function tasksOfSession(db: Executor, sessionId: string): Promise<ProjectTaskRow[]> {
  const rows = await db
    .selectFrom('project_tasks')
    .selectAll()
    .where('primary_session_id', '=', sessionId)
    .execute();
  return rows.map(ms);
}

export async function linksOfChannel(db: Executor, channelId: string): Promise<ProjectLinkRow[]> {
  const rows = await db
    .selectFrom('project_channel_links')
    .selectAll()
    .where('channel_id', '=', channelId)
    .execute();
  return rows.map(linkRow);
}

export async function nextPosition(
  db: Executor,
  table: 'project_members' | 'project_channel_links',
  projectId: string,
): Promise<number> {
  const r = await db
    .selectFrom(table)
    .select((eb) => eb.fn.max('position').as('p'))
    .where('project_id', '=', projectId)
    .executeTakeFirst();
  return r?.p === null || r?.p === undefined ? 0 : Number(r.p) + 1;
}

export async function mirroredOf(
  db: Executor,
  projectId: string,
): Promise<Array<{ channel_id: string; member_id: string }>> {
  return db
    .selectFrom('project_mirrored_members')
    .select(['channel_id', 'member_id'])
    .where('project_id', '=', projectId)
    .execute();
}

export interface ProjectEventInput {
  project_id: string;
  kind: string;
  project_task_id?: string | null;
  run_id?: string | null;
  data?: Record<string, unknown>;
}

export async function appendProjectEvent(db: Executor, now: number, e: ProjectEventInput): Promise<void> {
  await db
    .insertInto('project_events')
    .values({
      project_id: e.project_id,
      kind: e.kind,
      project_task_id: e.project_task_id ?? null,
      run_id: e.run_id ?? null,
      created_at_ms: now,
      data: JSON.stringify(e.data ?? {}),
    })
    .execute();
}

export async function projectEvents(
  db: Executor,
  projectId: string,
  q: { after?: number; limit: number },
): Promise<
  Array<{
    id: number;
    kind: string;
    project_task_id: string | null;
    run_id: string | null;
    created_at_ms: number;
    data: string;
  }>
> {
  let s = db.selectFrom('project_events').selectAll().where('project_id', '=', projectId);
  if (q.after !== undefined) s = s.where('id', '>', q.after);
  const rows = await s.orderBy('id', 'asc').limit(q.limit).execute();
  return rows.map((r) => ({ ...r, id: Number(r.id), created_at_ms: Number(r.created_at_ms) }));
}
