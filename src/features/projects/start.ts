// Starting a project task (api-collab §2.8): every rule is checked first (nothing is written when
// one fails), then the discussion thread is reused or a kickoff thread is opened in the default
// linked channel by the synthetic actor `project-control`, then one transaction re-checks the
// rules, submits a normal `input` run in the assignee's session and points the task at it.
import type { Engine } from '../../engine/engine.ts';
import { pinRoute } from '../../engine/new-run.ts';
import type { StoredRunRequest } from '../../engine/types.ts';
import { buildRunView } from '../../engine/views.ts';
import {
  getTask,
  linksOf,
  membersOf,
  type ProjectRow,
  type ProjectTaskRow,
  tasksOf,
} from '../../store/repos/projects.ts';
import { getRun, isTerminal } from '../../store/repos/runs.ts';
import { getSession, type SessionRow } from '../../store/repos/sessions.ts';
import type { Executor } from '../../store/schema.ts';
import type { ChannelsPort } from '../channels/port.ts';
import { projectErrors as E, TERMINAL_TASK } from './errors.ts';
import type { StartProjectTaskRequest } from './schema.ts';
import type { ProjectsService } from './service.ts';
import { blockedBy, taskView } from './views.ts';

/** The synthetic human actor that posts kickoff threads. */
export const PROJECT_CONTROL = 'project-control';
/** Set by the daemon on the run's metadata (a caller may not set it). */
export const RUN_METADATA_KEY = 'kheish_project_task';

interface Startable {
  project: ProjectRow;
  task: ProjectTaskRow;
  session: SessionRow;
}

interface Discussion {
  channel_id: string;
  thread_root_message_id: string;
}

export class TaskStarter {
  private readonly projects: ProjectsService;
  private readonly engine: Engine;
  private readonly channels: () => ChannelsPort | null;

  constructor(projects: ProjectsService, engine: Engine, channels: () => ChannelsPort | null) {
    this.projects = projects;
    this.engine = engine;
    this.channels = channels;
  }

  /** The start rules, in the order the spec lists them. */
  private async startable(db: Executor, projectId: string, taskId: string, lock = false): Promise<Startable> {
    const project = await this.projects.requireProject(db, projectId, lock);
    const task = await getTask(db, projectId, taskId);
    if (!task) throw E.taskNotFound(projectId, taskId);
    if (project.status !== 'active') throw E.projectNotActive(projectId, project.status);
    const member = (await membersOf(db, projectId)).find((m) => m.member_id === task.assignee_member_id);
    if (!task.assignee_member_id || !member) throw E.taskUnassigned(taskId);
    if (member.member_kind !== 'session' || !member.session_id) throw E.assigneeNotSession(member.member_id);
    const all = await tasksOf(db, projectId);
    const open = blockedBy(task).filter(
      (d) => all.find((t) => t.project_task_id === d)?.status !== 'completed',
    );
    if (open.length) throw E.dependenciesIncomplete(taskId, open);
    if (TERMINAL_TASK.has(task.status)) throw E.taskTerminal(taskId, task.status);
    if (task.latest_run_id) {
      const run = await getRun(db, task.latest_run_id);
      if (run && !isTerminal(run.status)) throw E.taskRunActive(taskId, run.run_id, run.status);
    }
    const session = await getSession(db, member.session_id);
    if (!session) throw E.sessionNotFound(member.session_id);
    if (session.ended_at_ms !== null) throw E.assigneeSessionEnded(session.session_id);
    return { project, task, session };
  }

  private request(
    s: Startable,
    body: StartProjectTaskRequest,
    discussion: Discussion | null,
  ): StoredRunRequest {
    const t = s.task;
    const lines = [
      `Project task ${t.project_task_id} of project ${s.project.project_id} (${s.project.display_name}): ${t.title}`,
    ];
    if (t.description) lines.push('', t.description);
    if (discussion)
      lines.push(
        '',
        `Public discussion: channel ${discussion.channel_id}, thread ${discussion.thread_root_message_id}.`,
      );
    const request: StoredRunRequest = {
      source_plugin: 'projects',
      source_kind: 'project_task',
      actor_id: PROJECT_CONTROL,
      content: lines.join('\n'),
      metadata: {
        ...body.metadata,
        [RUN_METADATA_KEY]: { project_id: t.project_id, project_task_id: t.project_task_id, discussion },
      },
    };
    if (body.provider !== undefined) request.provider = body.provider;
    if (body.model !== undefined) request.generation = { model: body.model };
    return request;
  }

  /** Reuses a valid thread, else opens a kickoff thread in the default linked channel, else none. */
  private async discussion(s: Startable, body: StartProjectTaskRequest): Promise<Discussion | null> {
    const channels = this.channels();
    if (!channels) return null;
    const t = s.task;
    const links = await linksOf(this.projects.db, t.project_id);
    if (
      t.discussion_channel_id &&
      t.discussion_thread_root_message_id &&
      links.some((l) => l.channel_id === t.discussion_channel_id) &&
      (await channels.exists(t.discussion_channel_id)) &&
      (await channels.isThreadRoot(t.discussion_channel_id, t.discussion_thread_root_message_id))
    )
      return {
        channel_id: t.discussion_channel_id,
        thread_root_message_id: t.discussion_thread_root_message_id,
      };
    const target = links.find((l) => l.default_for_new_tasks === 1);
    if (!target || !(await channels.exists(target.channel_id))) return null;
    const kickoff =
      body.kickoff_message ??
      [`Kickoff: ${t.title} (project task ${t.project_task_id})`, t.description ?? '']
        .filter(Boolean)
        .join('\n\n');
    // The synthetic sender joins the roster first: a channel accepts posts from its members only.
    await channels.upsertMember(target.channel_id, {
      member_id: PROJECT_CONTROL,
      member_kind: 'human_actor',
      display_name: 'Project control',
      actor_id: PROJECT_CONTROL,
    });
    const posted = await channels.post(target.channel_id, {
      sender_actor_id: PROJECT_CONTROL,
      sender_display_name: 'Project control',
      content: kickoff,
      metadata: { project_id: t.project_id, project_task_id: t.project_task_id },
    });
    return { channel_id: posted.channel_id, thread_root_message_id: posted.thread_root_message_id };
  }

  async start(projectId: string, taskId: string, body: StartProjectTaskRequest) {
    if (body.metadata && RUN_METADATA_KEY in body.metadata) throw E.reservedMetadata(RUN_METADATA_KEY);
    const first = await this.startable(this.projects.db, projectId, taskId);
    // A route that cannot serve is refused before the kickoff thread is posted.
    pinRoute(this.engine.routes, this.request(first, body, null), first.session.route_policy);
    const discussion = await this.discussion(first, body);
    // The view is the run as the start committed it: its status and the task's agree there.
    const view = await this.projects.store.write(async (tx) => {
      const s = await this.startable(tx.db, projectId, taskId, true);
      const { run } = await this.engine.submitInTx(
        tx,
        s.session.session_id,
        this.request(s, body, discussion),
        {
          kind: 'input',
        },
      );
      const patch = {
        latest_run_id: run.run_id,
        primary_session_id: s.session.session_id,
        discussion_channel_id: discussion?.channel_id ?? s.task.discussion_channel_id,
        discussion_thread_root_message_id:
          discussion?.thread_root_message_id ?? s.task.discussion_thread_root_message_id,
        status: run.status === 'queued' ? 'pending' : 'in_progress',
        updated_at_ms: tx.now,
      };
      await tx.db
        .updateTable('project_tasks')
        .set(patch)
        .where('project_id', '=', projectId)
        .where('project_task_id', '=', taskId)
        .execute();
      const next: ProjectTaskRow = { ...s.task, ...patch };
      await this.projects.touch(tx, projectId);
      await this.projects.event(
        tx,
        projectId,
        'task_started',
        { before_status: s.task.status, task: taskView(next), run_status: run.status },
        { project_task_id: taskId, run_id: run.run_id },
      );
      return buildRunView(tx.db, run);
    });
    await this.projects.mirror.reconcile(projectId);
    return view;
  }
}
