// Project tasks (api-collab §2.6–2.7): creation, partial updates, deletion and listing, with the
// assignment, discussion, dependency and latest-run rules checked inside the write transaction.
import { monotonicFactory } from 'ulid';
import {
  getTask,
  linksOf,
  membersOf,
  type ProjectMemberRow,
  type ProjectTaskRow,
  tasksOf,
} from '../../store/repos/projects.ts';
import { getRun, isTerminal } from '../../store/repos/runs.ts';
import type { Executor } from '../../store/schema.ts';
import type { ChannelsPort } from '../channels/port.ts';
import { projectErrors as E } from './errors.ts';
import { liveAgentSession } from './roster.ts';
import type {
  CreateProjectTaskRequest,
  ProjectTaskView,
  TaskAssignment,
  UpdateProjectTaskRequest,
} from './schema.ts';
import { checkId, type ProjectsService } from './service.ts';
import { blockedBy, taskView } from './views.ts';

const ulid = monotonicFactory();
const json = (v: unknown): string | null => (v === undefined || v === null ? null : JSON.stringify(v));

/** The member an assignment names (exactly one of member, session or live agent id). */
export async function resolveAssignment(
  db: Executor,
  projectId: string,
  a: TaskAssignment,
): Promise<ProjectMemberRow> {
  const given = [a.assignee_member_id, a.assignee_session_id, a.assignee_agent_id].filter(
    (x) => x !== undefined,
  );
  if (given.length !== 1)
    throw E.invalidAssignment(
      'assignment takes exactly one of assignee_member_id, assignee_session_id or assignee_agent_id',
    );
  const members = await membersOf(db, projectId);
  let m: ProjectMemberRow | undefined;
  if (a.assignee_member_id !== undefined) {
    m = members.find((x) => x.member_id === a.assignee_member_id);
    if (!m) throw E.assigneeNotFound(`project ${projectId} has no member ${a.assignee_member_id}`);
  } else if (a.assignee_session_id !== undefined) {
    m = members.find((x) => x.session_id === a.assignee_session_id);
    if (!m)
      throw E.assigneeNotFound(`no member of project ${projectId} has session ${a.assignee_session_id}`);
  } else {
    const agent = a.assignee_agent_id!;
    const session = await liveAgentSession(db, agent);
    m = members.find((x) => x.agent_id === agent) ?? members.find((x) => session && x.session_id === session);
    if (!m) throw E.assigneeNotFound(`no member of project ${projectId} is the live agent ${agent}`);
  }
  if (m.member_kind !== 'session' || !m.session_id) throw E.assigneeNotSession(m.member_id);
  return m;
}

/** Duplicates are dropped (first occurrence kept); unknown ids, self-dependency and cycles are refused. */
export function checkDependencies(taskId: string, wanted: string[], all: ProjectTaskRow[]): string[] {
  const deps = [...new Set(wanted)];
  if (deps.includes(taskId)) throw E.dependencyCycle(`task ${taskId} cannot be blocked by itself`);
  const graph = new Map(all.map((t) => [t.project_task_id, blockedBy(t)]));
  const unknown = deps.filter((d) => !graph.has(d));
  if (unknown.length) throw E.dependencyNotFound(unknown);
  graph.set(taskId, deps);
  // A cycle through the task: one of its dependencies reaches it again.
  const seen = new Set<string>();
  const stack = deps.map((d) => [d, [taskId, d]] as [string, string[]]);
  while (stack.length) {
    const [at, path] = stack.pop()!;
    if (at === taskId) throw E.dependencyCycle(`blocked_by would make a cycle: ${path.join(' -> ')}`);
    if (seen.has(at)) continue;
    seen.add(at);
    for (const next of graph.get(at) ?? []) stack.push([next, [...path, next]]);
  }
  return deps;
}

export class ProjectTasks {
  private readonly projects: ProjectsService;
  private readonly channels: () => ChannelsPort | null;

  constructor(projects: ProjectsService, channels: () => ChannelsPort | null) {
    this.projects = projects;
    this.channels = channels;
  }

  async requireTask(db: Executor, projectId: string, taskId: string, lock = false): Promise<ProjectTaskRow> {
    await this.projects.requireProject(db, projectId, lock);
    const t = await getTask(db, projectId, taskId);
    if (!t) throw E.taskNotFound(projectId, taskId);
    return t;
  }

  /** Both or neither; the thread is checked against the channels feature before the write. */
  private async checkThread(channelId?: string, rootId?: string): Promise<void> {
    if ((channelId === undefined) !== (rootId === undefined))
      throw E.invalidDiscussion(
        'discussion_channel_id and discussion_thread_root_message_id must be given together',
      );
    if (channelId === undefined || rootId === undefined) return;
    const channels = this.channels();
    if (!channels || !(await channels.exists(channelId))) throw E.channelNotFound(channelId);
    if (!(await channels.isThreadRoot(channelId, rootId)))
      throw E.discussionThreadNotFound(channelId, rootId);
  }

  private async checkLinked(db: Executor, projectId: string, channelId: string): Promise<void> {
    if (!(await linksOf(db, projectId)).some((l) => l.channel_id === channelId))
      throw E.discussionNotLinked(channelId);
  }

  private async checkLatestRun(db: Executor, runId: string, sessionId: string | null): Promise<void> {
    if (!sessionId)
      throw E.latestRunInvalid('latest_run_id needs an assignee: the run must be in its session');
    const run = await getRun(db, runId);
    if (!run) throw E.latestRunInvalid(`run ${runId} was not found`);
    if (run.session_id !== sessionId)
      throw E.latestRunInvalid(
        `run ${runId} belongs to session ${run.session_id}, not the assignee's ${sessionId}`,
      );
  }

  async create(projectId: string, body: CreateProjectTaskRequest): Promise<ProjectTaskView> {
    const id = body.project_task_id ?? `ptask-${ulid().toLowerCase()}`;
    checkId('project_task_id', id);
    await this.checkThread(body.discussion_channel_id, body.discussion_thread_root_message_id);
    return this.projects.store.write(async (tx) => {
      const project = await this.projects.requireProject(tx.db, projectId, true);
      if (project.status !== 'active') throw E.projectNotActive(projectId, project.status);
      if (await getTask(tx.db, projectId, id)) throw E.taskExists(projectId, id);
      const assignee = body.assignment ? await resolveAssignment(tx.db, projectId, body.assignment) : null;
      if (body.discussion_channel_id) await this.checkLinked(tx.db, projectId, body.discussion_channel_id);
      const deps = checkDependencies(id, body.blocked_by ?? [], await tasksOf(tx.db, projectId));
      if (body.latest_run_id)
        await this.checkLatestRun(tx.db, body.latest_run_id, assignee?.session_id ?? null);
      const row: ProjectTaskRow = {
        project_id: projectId,
        project_task_id: id,
        title: body.title,
        description: body.description ?? null,
        status: body.status ?? 'pending',
        assignee_member_id: assignee?.member_id ?? null,
        primary_session_id: assignee?.session_id ?? null,
        latest_run_id: body.latest_run_id ?? null,
        discussion_channel_id: body.discussion_channel_id ?? null,
        discussion_thread_root_message_id: body.discussion_thread_root_message_id ?? null,
        blocked_by: JSON.stringify(deps),
        output: json(body.output),
        metadata: json(body.metadata),
        created_at_ms: tx.now,
        updated_at_ms: tx.now,
      };
      await tx.db.insertInto('project_tasks').values(row).execute();
      await this.projects.touch(tx, projectId);
      const view = taskView(row);
      await this.projects.event(tx, projectId, 'task_created', { task: view }, { project_task_id: id });
      return view;
    });
  }

  async get(projectId: string, taskId: string): Promise<ProjectTaskView> {
    return taskView(await this.requireTask(this.projects.db, projectId, taskId));
  }

  async list(projectId: string, q: { query?: string; status?: string; assignee_member_id?: string }) {
    await this.projects.requireProject(this.projects.db, projectId);
    const needle = q.query?.toLowerCase();
    return (await tasksOf(this.projects.db, projectId))
      .filter((t) => !q.status || t.status === q.status)
      .filter((t) => !q.assignee_member_id || t.assignee_member_id === q.assignee_member_id)
      .filter(
        (t) =>
          !needle ||
          [t.project_task_id, t.title, t.description ?? '', t.output ?? ''].some((s) =>
            s.toLowerCase().includes(needle),
          ),
      )
      .map(taskView);
  }

  async update(projectId: string, taskId: string, body: UpdateProjectTaskRequest): Promise<ProjectTaskView> {
    if (Object.keys(body).length === 0) throw E.invalidTask('give at least one field to change');
    if (body.assignment && body.clear_assignment)
      throw E.invalidAssignment('give assignment or clear_assignment, not both');
    const discussionGiven =
      body.discussion_channel_id !== undefined || body.discussion_thread_root_message_id !== undefined;
    if (discussionGiven && body.clear_discussion)
      throw E.invalidDiscussion('give the discussion fields or clear_discussion, not both');
    if (body.output !== undefined && body.clear_output)
      throw E.invalidTask('give output or clear_output, not both');
    await this.checkThread(body.discussion_channel_id, body.discussion_thread_root_message_id);
    return this.projects.store.write(async (tx) => {
      const t = await this.requireTask(tx.db, projectId, taskId, true);
      // Only the columns this update changes are written: a run moving the task meanwhile (in its
      // own transaction, see follow.ts) keeps its status unless this update sets one.
      const patch: Partial<ProjectTaskRow> = { updated_at_ms: tx.now };
      if (body.title !== undefined) patch.title = body.title;
      if (body.description !== undefined) patch.description = body.description;
      if (body.status !== undefined) patch.status = body.status;
      if (body.assignment || body.clear_assignment) {
        const m = body.assignment ? await resolveAssignment(tx.db, projectId, body.assignment) : null;
        patch.assignee_member_id = m?.member_id ?? null;
        patch.primary_session_id = m?.session_id ?? null;
        // The live run stays in its session: reassigning under it would split the task in two.
        if (patch.primary_session_id !== t.primary_session_id && t.latest_run_id && !body.latest_run_id) {
          const run = await getRun(tx.db, t.latest_run_id);
          if (run && !isTerminal(run.status)) throw E.taskRunActive(taskId, run.run_id, run.status);
        }
      }
      if (discussionGiven) {
        await this.checkLinked(tx.db, projectId, body.discussion_channel_id!);
        patch.discussion_channel_id = body.discussion_channel_id!;
        patch.discussion_thread_root_message_id = body.discussion_thread_root_message_id!;
      } else if (body.clear_discussion) {
        patch.discussion_channel_id = null;
        patch.discussion_thread_root_message_id = null;
      }
      if (body.blocked_by !== undefined)
        patch.blocked_by = JSON.stringify(
          checkDependencies(taskId, body.blocked_by, await tasksOf(tx.db, projectId)),
        );
      if (body.latest_run_id !== undefined) {
        const session =
          patch.primary_session_id !== undefined ? patch.primary_session_id : t.primary_session_id;
        await this.checkLatestRun(tx.db, body.latest_run_id, session);
        patch.latest_run_id = body.latest_run_id;
      }
      if (body.output !== undefined) patch.output = json(body.output);
      else if (body.clear_output) patch.output = null;
      if (body.metadata !== undefined) patch.metadata = json(body.metadata);
      await tx.db
        .updateTable('project_tasks')
        .set(patch)
        .where('project_id', '=', projectId)
        .where('project_task_id', '=', taskId)
        .execute();
      await this.projects.touch(tx, projectId);
      const view = taskView((await getTask(tx.db, projectId, taskId))!);
      await this.projects.event(
        tx,
        projectId,
        'task_updated',
        { before_status: t.status, task: view },
        { project_task_id: taskId },
      );
      return view;
    });
  }

  async delete(projectId: string, taskId: string): Promise<{ deleted: true }> {
    return this.projects.store.write(async (tx) => {
      await this.requireTask(tx.db, projectId, taskId, true);
      const dependents = (await tasksOf(tx.db, projectId)).filter((t) => blockedBy(t).includes(taskId));
      if (dependents.length)
        throw E.taskHasDependents(
          taskId,
          dependents.map((t) => t.project_task_id),
        );
      await tx.db
        .deleteFrom('project_tasks')
        .where('project_id', '=', projectId)
        .where('project_task_id', '=', taskId)
        .execute();
      await this.projects.touch(tx, projectId);
      await this.projects.event(tx, projectId, 'task_deleted', {}, { project_task_id: taskId });
      return { deleted: true as const };
    });
  }
}
