// `projects tasks …`: project tasks (api-collab §2.6–2.8): list, create, get, update, delete and
// start (a normal `input` run in the assignee's session; follow it with `runs wait <run_id>`).
import { type Command, InvalidArgumentError } from 'commander';
import type {
  CreateProjectTaskRequest,
  ProjectsResource,
  ProjectTaskStatus,
  ProjectTaskView,
  TaskAssignment,
  UpdateProjectTaskRequest,
} from '../sdk/projects.ts';
import { itemsOf, type JsonObject } from '../sdk/types.ts';
import { jsonInput } from './approvals.ts';
import { UsageError } from './errors.ts';
import { keyValues, oneLine, scalar, table, time } from './format.ts';
import { nonEmpty } from './parse.ts';
import { renderRun } from './render.ts';
import type { CliRuntime } from './runtime.ts';

export const csv = (value: string): string[] =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

export async function jsonObject(rt: CliRuntime, text?: string, file?: string, flag = 'metadata') {
  const v = await jsonInput(rt, text, file, flag);
  if (v !== undefined && (typeof v !== 'object' || v === null || Array.isArray(v)))
    throw new UsageError(`--${flag}-json must be a JSON object`);
  return v as JsonObject | undefined;
}

const STATUSES = ['pending', 'in_progress', 'blocked', 'completed', 'failed', 'cancelled'];

function taskStatus(value: string): ProjectTaskStatus {
  const v = value.replaceAll('-', '_');
  if (!STATUSES.includes(v)) throw new InvalidArgumentError(`expected one of ${STATUSES.join(', ')}`);
  return v as ProjectTaskStatus;
}

function renderTask(t: ProjectTaskView): string[] {
  return keyValues([
    ['task', t.project_task_id],
    ['project', t.project_id],
    ['title', t.title],
    ['description', t.description ?? undefined],
    ['status', t.status],
    ['assignee', t.assignee_member_id ?? undefined],
    ['session', t.primary_session_id ?? undefined],
    ['latest run', t.latest_run_id ?? undefined],
    [
      'discussion',
      t.discussion ? `${t.discussion.channel_id} thread ${t.discussion.thread_root_message_id}` : undefined,
    ],
    ['blocked by', t.blocked_by.length ? t.blocked_by.join(', ') : undefined],
    ['output', t.output === null || t.output === undefined ? undefined : scalar(t.output, 200)],
    ['created', time(t.created_at_ms)],
    ['updated', time(t.updated_at_ms)],
  ]);
}

interface TaskFlags {
  title?: string;
  description?: string;
  status?: ProjectTaskStatus;
  assigneeMember?: string;
  assigneeSession?: string;
  assigneeAgent?: string;
  discussionChannel?: string;
  discussionThread?: string;
  blockedBy?: string[];
  latestRun?: string;
  output?: string;
  metadataJson?: string;
}

function taskOptions(cmd: Command): Command {
  return cmd
    .option('--description <text>')
    .option('--status <status>', STATUSES.join(' | '), taskStatus)
    .option('--assignee-member <member_id>', 'assign to a session member')
    .option('--assignee-session <session_id>', 'assign to the member with this session')
    .option('--assignee-agent <agent_id>', 'assign to the member that is this live agent')
    .option('--discussion-channel <channel_id>', 'a linked channel (with --discussion-thread)')
    .option('--discussion-thread <message_id>', 'the root message of the discussion thread')
    .option('--blocked-by <ids>', 'comma-separated task ids this task waits for', csv)
    .option('--latest-run <run_id>', "a run of the assignee's session")
    .option('--output <text>', 'the recorded output')
    .option('--metadata-json <json>', 'metadata (a JSON object)');
}

async function taskFields(rt: CliRuntime, f: TaskFlags): Promise<UpdateProjectTaskRequest> {
  const body: UpdateProjectTaskRequest = {};
  if (f.title !== undefined) body.title = f.title;
  if (f.description !== undefined) body.description = f.description;
  if (f.status !== undefined) body.status = f.status;
  const assignment: TaskAssignment = {};
  if (f.assigneeMember) assignment.assignee_member_id = f.assigneeMember;
  if (f.assigneeSession) assignment.assignee_session_id = f.assigneeSession;
  if (f.assigneeAgent) assignment.assignee_agent_id = f.assigneeAgent;
  if (Object.keys(assignment).length > 1)
    throw new UsageError('give one of --assignee-member, --assignee-session, --assignee-agent');
  if (Object.keys(assignment).length) body.assignment = assignment;
  if (f.discussionChannel !== undefined) body.discussion_channel_id = f.discussionChannel;
  if (f.discussionThread !== undefined) body.discussion_thread_root_message_id = f.discussionThread;
  if (f.blockedBy !== undefined) body.blocked_by = f.blockedBy;
  if (f.latestRun !== undefined) body.latest_run_id = f.latestRun;
  if (f.output !== undefined) body.output = f.output;
  const metadata = await jsonObject(rt, f.metadataJson);
  if (metadata !== undefined) body.metadata = metadata;
  return body;
}

export function registerProjectTasks(projects: Command, rt: CliRuntime, api: () => ProjectsResource): void {
  const tasks = projects.command('tasks').description('project tasks');

  tasks
    .command('list')
    .argument('<project_id>')
    .option('--status <status>', STATUSES.join(' | '), taskStatus)
    .option('--assignee <member_id>', 'tasks of this member')
    .option('--query <text>', 'substring of the id, title, description or output')
    .action(async (id: string, f: { status?: ProjectTaskStatus; assignee?: string; query?: string }) => {
      const result = await api().listTasks(id, {
        status: f.status,
        assignee_member_id: f.assignee,
        query: f.query,
      });
      rt.emit(result, (r) => {
        const items = itemsOf(r);
        if (!items.length) return ['no tasks'];
        return table(
          ['TASK', 'STATUS', 'ASSIGNEE', 'LATEST RUN', 'BLOCKED BY', 'TITLE'],
          items.map((t) => [
            t.project_task_id,
            t.status,
            t.assignee_member_id ?? '-',
            t.latest_run_id ?? '-',
            t.blocked_by.length ? t.blocked_by.join(',') : '-',
            oneLine(t.title, 50),
          ]),
        );
      });
    });

  taskOptions(
    tasks
      .command('create')
      .description('create a task (the project must be active)')
      .argument('<project_id>')
      .option('--id <task_id>', 'a stable task id (generated when left out)')
      .requiredOption('--title <title>', 'the task title', nonEmpty),
  ).action(async (id: string, f: TaskFlags & { id?: string }) => {
    const body = (await taskFields(rt, f)) as CreateProjectTaskRequest;
    if (f.id) body.project_task_id = f.id;
    rt.emit(await api().createTask(id, body), renderTask);
  });

  tasks
    .command('get')
    .argument('<project_id>')
    .argument('<task_id>')
    .action(async (id: string, taskId: string) => rt.emit(await api().getTask(id, taskId), renderTask));

  taskOptions(
    tasks
      .command('update')
      .description('change the given fields (reopen a finished task with --status pending)')
      .argument('<project_id>')
      .argument('<task_id>')
      .option('--title <title>', 'the task title', nonEmpty)
      .option('--clear-assignment', 'unassign')
      .option('--clear-discussion', 'forget the discussion thread')
      .option('--clear-output', 'forget the recorded output'),
  ).action(
    async (
      id: string,
      taskId: string,
      f: TaskFlags & { clearAssignment?: boolean; clearDiscussion?: boolean; clearOutput?: boolean },
    ) => {
      const body = await taskFields(rt, f);
      if (f.clearAssignment) body.clear_assignment = true;
      if (f.clearDiscussion) body.clear_discussion = true;
      if (f.clearOutput) body.clear_output = true;
      if (!Object.keys(body).length) throw new UsageError('give at least one field to change');
      rt.emit(await api().updateTask(id, taskId, body), renderTask);
    },
  );

  tasks
    .command('delete')
    .description('delete a task (refused while another task is blocked by it)')
    .argument('<project_id>')
    .argument('<task_id>')
    .action(async (id: string, taskId: string) =>
      rt.emit(await api().deleteTask(id, taskId), () => [`deleted task ${taskId}`]),
    );

  tasks
    .command('start')
    .description("start the task: a run in the assignee's session (wait for it with `runs wait <run_id>`)")
    .argument('<project_id>')
    .argument('<task_id>')
    .option('--provider <route>', 'route override (a provider or a configured route id)')
    .option('--model <model>', 'model override')
    .option('--kickoff-message <text>', 'the text of a new kickoff thread')
    .option('--metadata-json <json>', 'metadata attached to the run (a JSON object)')
    .action(
      async (
        id: string,
        taskId: string,
        f: { provider?: string; model?: string; kickoffMessage?: string; metadataJson?: string },
      ) => {
        const metadata = await jsonObject(rt, f.metadataJson);
        const run = await api().startTask(id, taskId, {
          ...(f.provider ? { provider: f.provider } : {}),
          ...(f.model ? { model: f.model } : {}),
          ...(f.kickoffMessage ? { kickoff_message: f.kickoffMessage } : {}),
          ...(metadata ? { metadata } : {}),
        });
        rt.emit(run, renderRun);
      },
    );
}
