// Projects API client calls (api-collab §2): projects, their members and linked channels, project
// tasks, and starting a task (a normal `input` run in the assignee's session, answered 202).
import type { DaemonClient, RequestOptions } from './client.ts';
import type { JsonObject, ListResult, PageQuery, RunView } from './types.ts';

export type ProjectStatus = 'active' | 'paused' | 'completed' | 'archived';
export type ProjectTaskStatus = 'pending' | 'in_progress' | 'blocked' | 'completed' | 'failed' | 'cancelled';

export interface ProjectMemberInput {
  member_id: string;
  member_kind: 'human_actor' | 'session';
  display_name: string;
  session_id?: string;
  agent_id?: string;
  actor_id?: string;
  role?: string;
  expertise_tags?: string[];
  metadata?: JsonObject;
}

export interface ProjectMemberView extends JsonObject {
  member_id: string;
  member_kind: 'human_actor' | 'session';
  display_name: string;
  session_id: string | null;
  agent_id: string | null;
  actor_id: string | null;
  role: string | null;
  expertise_tags: string[];
  metadata: JsonObject;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface ProjectChannelLinkInput {
  channel_id: string;
  role?: string;
  default_for_new_tasks?: boolean;
  mirror_members?: boolean;
  metadata?: JsonObject;
}

export interface ProjectChannelLinkView extends JsonObject {
  channel_id: string;
  role: string | null;
  default_for_new_tasks: boolean;
  mirror_members: boolean;
  metadata: JsonObject;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface ProjectView extends JsonObject {
  project_id: string;
  display_name: string;
  description: string | null;
  status: ProjectStatus;
  members: ProjectMemberView[];
  channel_links: ProjectChannelLinkView[];
  task_counts: Record<string, number>;
  metadata: JsonObject;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface CreateProjectRequest {
  project_id?: string;
  display_name: string;
  description?: string;
  status?: ProjectStatus;
  members?: ProjectMemberInput[];
  channel_links?: ProjectChannelLinkInput[];
  metadata?: JsonObject;
}

export interface UpdateProjectRequest {
  display_name?: string;
  description?: string | null;
  status?: ProjectStatus;
  metadata?: JsonObject | null;
}

/** Exactly one of the three. */
export interface TaskAssignment {
  assignee_member_id?: string;
  assignee_session_id?: string;
  assignee_agent_id?: string;
}

export interface CreateProjectTaskRequest {
  project_task_id?: string;
  title: string;
  description?: string;
  status?: ProjectTaskStatus;
  assignment?: TaskAssignment;
  discussion_channel_id?: string;
  discussion_thread_root_message_id?: string;
  blocked_by?: string[];
  latest_run_id?: string;
  output?: unknown;
  metadata?: JsonObject;
}

export interface UpdateProjectTaskRequest extends Partial<Omit<CreateProjectTaskRequest, 'project_task_id'>> {
  clear_assignment?: boolean;
  clear_discussion?: boolean;
  clear_output?: boolean;
}

export interface StartProjectTaskRequest {
  provider?: string;
  model?: string;
  kickoff_message?: string;
  metadata?: JsonObject;
}

export interface ProjectTaskView extends JsonObject {
  project_task_id: string;
  project_id: string;
  title: string;
  description: string | null;
  status: ProjectTaskStatus;
  assignee_member_id: string | null;
  primary_session_id: string | null;
  latest_run_id: string | null;
  discussion: { channel_id: string; thread_root_message_id: string } | null;
  blocked_by: string[];
  output: unknown;
  metadata: JsonObject;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface ProjectEventView extends JsonObject {
  id: number;
  kind: string;
  project_task_id: string | null;
  run_id: string | null;
  created_at_ms: number;
  data: JsonObject;
}

const enc = encodeURIComponent;

function call<T>(
  http: DaemonClient,
  method: string,
  path: string,
  opts: { body?: unknown; query?: object } = {},
): Promise<T> {
  return http.request(method, path, {
    ...(opts.body !== undefined ? { body: opts.body } : {}),
    ...(opts.query ? { query: { ...opts.query } as RequestOptions['query'] } : {}),
  }) as Promise<T>;
}

export class ProjectsResource {
  private readonly http: DaemonClient;

  constructor(http: DaemonClient) {
    this.http = http;
  }

  list(
    query: PageQuery & {
      query?: string;
      status?: ProjectStatus;
      member_session_id?: string;
      channel_id?: string;
    } = {},
  ): Promise<ListResult<ProjectView>> {
    return call(this.http, 'GET', '/v1/projects', { query });
  }

  /** POST /v1/projects: 201 ProjectView (status `active` unless given). */
  create(body: CreateProjectRequest): Promise<ProjectView> {
    return call(this.http, 'POST', '/v1/projects', { body });
  }

  get(projectId: string): Promise<ProjectView> {
    return call(this.http, 'GET', `/v1/projects/${enc(projectId)}`);
  }

  /** PUT: the given fields replace the stored ones; null clears description or metadata. */
  update(projectId: string, body: UpdateProjectRequest): Promise<ProjectView> {
    return call(this.http, 'PUT', `/v1/projects/${enc(projectId)}`, { body });
  }

  /** Refused (409 projects/project_has_tasks) while the project has tasks. */
  delete(projectId: string): Promise<{ deleted: true }> {
    return call(this.http, 'DELETE', `/v1/projects/${enc(projectId)}`);
  }

  /** The project's change log (oldest first), after the event id `after`. */
  events(projectId: string, query: { after?: number; limit?: number } = {}): Promise<ProjectEventView[]> {
    return call(this.http, 'GET', `/v1/projects/${enc(projectId)}/events`, { query });
  }

  members(projectId: string): Promise<ProjectMemberView[]> {
    return call(this.http, 'GET', `/v1/projects/${enc(projectId)}/members`);
  }

  upsertMember(projectId: string, body: ProjectMemberInput): Promise<ProjectMemberView> {
    return call(this.http, 'POST', `/v1/projects/${enc(projectId)}/members`, { body });
  }

  removeMember(projectId: string, memberId: string): Promise<{ deleted: true }> {
    return call(this.http, 'DELETE', `/v1/projects/${enc(projectId)}/members/${enc(memberId)}`);
  }

  links(projectId: string): Promise<ProjectChannelLinkView[]> {
    return call(this.http, 'GET', `/v1/projects/${enc(projectId)}/channels`);
  }

  upsertLink(projectId: string, body: ProjectChannelLinkInput): Promise<ProjectChannelLinkView> {
    return call(this.http, 'POST', `/v1/projects/${enc(projectId)}/channels`, { body });
  }

  removeLink(projectId: string, channelId: string): Promise<{ deleted: true }> {
    return call(this.http, 'DELETE', `/v1/projects/${enc(projectId)}/channels/${enc(channelId)}`);
  }

  listTasks(
    projectId: string,
    query: PageQuery & { query?: string; status?: ProjectTaskStatus; assignee_member_id?: string } = {},
  ): Promise<ListResult<ProjectTaskView>> {
    return call(this.http, 'GET', `/v1/projects/${enc(projectId)}/tasks`, { query });
  }

  createTask(projectId: string, body: CreateProjectTaskRequest): Promise<ProjectTaskView> {
    return call(this.http, 'POST', `/v1/projects/${enc(projectId)}/tasks`, { body });
  }

  getTask(projectId: string, taskId: string): Promise<ProjectTaskView> {
    return call(this.http, 'GET', `/v1/projects/${enc(projectId)}/tasks/${enc(taskId)}`);
  }

  updateTask(projectId: string, taskId: string, body: UpdateProjectTaskRequest): Promise<ProjectTaskView> {
    return call(this.http, 'PUT', `/v1/projects/${enc(projectId)}/tasks/${enc(taskId)}`, { body });
  }

  deleteTask(projectId: string, taskId: string): Promise<{ deleted: true }> {
    return call(this.http, 'DELETE', `/v1/projects/${enc(projectId)}/tasks/${enc(taskId)}`);
  }

  /** POST …/start: 202 with the run it submitted in the assignee's session. */
  startTask(projectId: string, taskId: string, body: StartProjectTaskRequest = {}): Promise<RunView> {
    return call(this.http, 'POST', `/v1/projects/${enc(projectId)}/tasks/${enc(taskId)}/start`, { body });
  }
}
