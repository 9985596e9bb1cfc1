// The projects domain's problems (api-collab §2; codes are ours where the spec names none, see
// docs/decisions.md "Projects"). A reference inside a body that resolves to nothing is a 400 with
// a specific code; a resource in the path that does not exist is a 404; a rule about the current
// state of other records (tasks still open, a run still live) is a 409.
import { DaemonError } from '../../errors/daemon-error.ts';

const p = (status: number, code: string, detail: string) => new DaemonError(status, 'projects', code, detail);

export const projectErrors = {
  projectNotFound: (id: string) => p(404, 'project_not_found', `project ${id} was not found`),
  taskNotFound: (pid: string, id: string) =>
    p(404, 'project_task_not_found', `project ${pid} has no task ${id}`),
  memberNotFound: (pid: string, id: string) =>
    p(404, 'project_member_not_found', `project ${pid} has no member ${id}`),
  linkNotFound: (pid: string, id: string) =>
    p(404, 'project_channel_link_not_found', `project ${pid} does not link channel ${id}`),
  projectExists: (id: string) =>
    p(409, 'project_already_exists', `project ${id} already exists; update it with PUT /v1/projects/${id}`),
  taskExists: (pid: string, id: string) =>
    p(409, 'project_task_already_exists', `project ${pid} already has a task ${id}`),
  invalidProject: (detail: string) => p(400, 'invalid_project', detail),
  invalidMember: (detail: string) => p(400, 'invalid_member', detail),
  invalidLink: (detail: string) => p(400, 'invalid_channel_link', detail),
  invalidTask: (detail: string) => p(400, 'invalid_task', detail),
  invalidAssignment: (detail: string) => p(400, 'invalid_assignment', detail),
  invalidDiscussion: (detail: string) => p(400, 'invalid_discussion', detail),
  channelNotFound: (id: string) =>
    p(400, 'channel_not_found', `channel ${id} does not exist; create it with POST /v1/channels first`),
  sessionNotFound: (id: string) =>
    p(400, 'session_not_found', `session ${id} does not exist; create it with POST /v1/sessions first`),
  agentNotFound: (id: string) =>
    p(400, 'agent_not_found', `no live agent ${id} (its session is ended or unknown)`),
  sessionConflict: (sid: string, other: string) =>
    p(
      409,
      'member_session_conflict',
      `session ${sid} is already project member ${other}; one session may appear once per project`,
    ),
  assigneeNotFound: (detail: string) => p(400, 'assignee_not_found', detail),
  assigneeNotSession: (mid: string) =>
    p(
      400,
      'assignee_not_session_backed',
      `member ${mid} is a human_actor; only session members can own tasks`,
    ),
  discussionNotLinked: (cid: string) =>
    p(
      400,
      'discussion_channel_not_linked',
      `channel ${cid} is not linked to the project; link it with POST …/channels first`,
    ),
  discussionThreadNotFound: (cid: string, mid: string) =>
    p(400, 'discussion_thread_not_found', `message ${mid} is not a thread root of channel ${cid}`),
  dependencyNotFound: (ids: string[]) =>
    p(400, 'dependency_not_found', `blocked_by names tasks this project does not have: ${ids.join(', ')}`),
  dependencyCycle: (detail: string) => p(400, 'dependency_cycle', detail),
  latestRunInvalid: (detail: string) => p(400, 'latest_run_invalid', detail),
  projectNotActive: (id: string, status: string) =>
    p(409, 'project_not_active', `project ${id} is ${status}; set its status to active first`),
  projectHasTasks: (id: string, n: number) =>
    p(409, 'project_has_tasks', `project ${id} still has ${n} task(s); delete them first`),
  taskHasDependents: (id: string, by: string[]) =>
    p(
      409,
      'task_has_dependents',
      `task ${id} is in blocked_by of ${by.join(', ')}; update those tasks first`,
    ),
  memberOwnsTasks: (mid: string, ids: string[]) =>
    p(
      409,
      'member_owns_tasks',
      `member ${mid} owns non-terminal task(s) ${ids.join(', ')}; reassign or close them first`,
    ),
  linkInUse: (cid: string, ids: string[]) =>
    p(
      409,
      'channel_link_in_use',
      `channel ${cid} is the discussion channel of non-terminal task(s) ${ids.join(', ')}`,
    ),
  taskUnassigned: (id: string) =>
    p(409, 'task_unassigned', `task ${id} has no assignee; assign it to a session member first`),
  dependenciesIncomplete: (id: string, open: string[]) =>
    p(
      409,
      'dependencies_incomplete',
      `task ${id} is blocked by task(s) not completed yet: ${open.join(', ')}`,
    ),
  taskTerminal: (id: string, status: string) =>
    p(409, 'task_terminal', `task ${id} is ${status}; reopen it (PUT status pending) before starting it`),
  taskRunActive: (id: string, runId: string, status: string) =>
    p(409, 'task_run_active', `task ${id} already has run ${runId} (${status}); wait for it or cancel it`),
  assigneeSessionEnded: (sid: string) =>
    p(
      409,
      'assignee_session_ended',
      `the assignee session ${sid} has ended; reopen it with POST /v1/sessions {"session_id":"${sid}"} first`,
    ),
  reservedMetadata: (key: string) => p(400, 'invalid_start', `metadata key ${key} is set by the daemon`),
  sessionIsMember: (sid: string, pid: string, mid: string) =>
    p(
      409,
      'session_is_project_member',
      `session ${sid} is member ${mid} of project ${pid}; remove it from the project before ending it`,
    ),
  sessionOwnsTasks: (sid: string, ids: string[]) =>
    p(
      409,
      'session_owns_project_tasks',
      `session ${sid} owns non-terminal project task(s) ${ids.join(', ')}`,
    ),
};

export const TERMINAL_TASK = new Set(['completed', 'failed', 'cancelled']);
