// Wire types of the projects API (api-collab §2): the contract, also in /v1/openapi.json.
import { z } from 'zod';

const metadata = z.record(z.string(), z.unknown());
const id = z.string().trim().min(1).max(256);
const text = z.string().max(64 * 1024);

export const ProjectStatus = z.enum(['active', 'paused', 'completed', 'archived']);
/** The shared task status family (session tasks use it too). */
export const ProjectTaskStatus = z.enum([
  'pending',
  'in_progress',
  'blocked',
  'completed',
  'failed',
  'cancelled',
]);
export type ProjectTaskStatus = z.infer<typeof ProjectTaskStatus>;
export const MemberKind = z.enum(['human_actor', 'session']);

export const ProjectMemberInput = z
  .object({
    member_id: id,
    member_kind: MemberKind,
    display_name: z.string().trim().min(1).max(256),
    session_id: id.optional(),
    agent_id: id.optional(),
    actor_id: id.optional(),
    role: z.string().max(256).optional(),
    expertise_tags: z.array(z.string().trim().min(1).max(128)).max(64).optional(),
    metadata: metadata.optional(),
  })
  .strict();
export type ProjectMemberInput = z.infer<typeof ProjectMemberInput>;

export const ProjectChannelLinkInput = z
  .object({
    channel_id: id,
    role: z.string().max(256).optional(),
    default_for_new_tasks: z.boolean().optional(),
    mirror_members: z.boolean().optional(),
    metadata: metadata.optional(),
  })
  .strict();
export type ProjectChannelLinkInput = z.infer<typeof ProjectChannelLinkInput>;

export const CreateProjectRequest = z
  .object({
    project_id: id.optional(),
    display_name: z.string().trim().min(1).max(256),
    description: text.optional(),
    status: ProjectStatus.optional(),
    members: z.array(ProjectMemberInput).max(1000).optional(),
    channel_links: z.array(ProjectChannelLinkInput).max(100).optional(),
    metadata: metadata.optional(),
  })
  .strict();
export type CreateProjectRequest = z.infer<typeof CreateProjectRequest>;

/** PUT: the fields given replace the stored ones; null clears description or metadata. */
export const UpdateProjectRequest = z
  .object({
    display_name: z.string().trim().min(1).max(256).optional(),
    description: text.nullable().optional(),
    status: ProjectStatus.optional(),
    metadata: metadata.nullable().optional(),
  })
  .strict();
export type UpdateProjectRequest = z.infer<typeof UpdateProjectRequest>;

export const ProjectMemberView = z
  .object({
    member_id: z.string(),
    member_kind: MemberKind,
    display_name: z.string(),
    session_id: z.string().nullable(),
    agent_id: z.string().nullable(),
    actor_id: z.string().nullable(),
    role: z.string().nullable(),
    expertise_tags: z.array(z.string()),
    metadata: metadata,
    created_at_ms: z.number().int(),
    updated_at_ms: z.number().int(),
  })
  .meta({ id: 'ProjectMemberView' });
export type ProjectMemberView = z.infer<typeof ProjectMemberView>;

export const ProjectChannelLinkView = z
  .object({
    channel_id: z.string(),
    role: z.string().nullable(),
    default_for_new_tasks: z.boolean(),
    mirror_members: z.boolean(),
    metadata: metadata,
    created_at_ms: z.number().int(),
    updated_at_ms: z.number().int(),
  })
  .meta({ id: 'ProjectChannelLinkView' });
export type ProjectChannelLinkView = z.infer<typeof ProjectChannelLinkView>;

export const ProjectView = z
  .object({
    project_id: z.string(),
    display_name: z.string(),
    description: z.string().nullable(),
    status: ProjectStatus,
    members: z.array(ProjectMemberView),
    channel_links: z.array(ProjectChannelLinkView),
    /** Our addition: how many tasks the project has, and how many per status. */
    task_counts: z.record(z.string(), z.number().int()),
    metadata: metadata,
    created_at_ms: z.number().int(),
    updated_at_ms: z.number().int(),
  })
  .meta({ id: 'ProjectView' });
export type ProjectView = z.infer<typeof ProjectView>;

/** Exactly one of the three (checked by the service: a 400 names what is wrong). */
export const TaskAssignment = z
  .object({
    assignee_member_id: id.optional(),
    assignee_session_id: id.optional(),
    assignee_agent_id: id.optional(),
  })
  .strict();
export type TaskAssignment = z.infer<typeof TaskAssignment>;

export const CreateProjectTaskRequest = z
  .object({
    project_task_id: id.optional(),
    title: z.string().trim().min(1).max(1024),
    description: text.optional(),
    status: ProjectTaskStatus.optional(),
    assignment: TaskAssignment.optional(),
    discussion_channel_id: id.optional(),
    discussion_thread_root_message_id: id.optional(),
    blocked_by: z.array(id).max(256).optional(),
    latest_run_id: id.optional(),
    output: z.unknown().optional(),
    metadata: metadata.optional(),
  })
  .strict();
export type CreateProjectTaskRequest = z.infer<typeof CreateProjectTaskRequest>;

export const UpdateProjectTaskRequest = z
  .object({
    title: z.string().trim().min(1).max(1024).optional(),
    description: text.optional(),
    status: ProjectTaskStatus.optional(),
    assignment: TaskAssignment.optional(),
    clear_assignment: z.boolean().optional(),
    discussion_channel_id: id.optional(),
    discussion_thread_root_message_id: id.optional(),
    clear_discussion: z.boolean().optional(),
    blocked_by: z.array(id).max(256).optional(),
    latest_run_id: id.optional(),
    output: z.unknown().optional(),
    clear_output: z.boolean().optional(),
    metadata: metadata.optional(),
  })
  .strict();
export type UpdateProjectTaskRequest = z.infer<typeof UpdateProjectTaskRequest>;

export const StartProjectTaskRequest = z
  .object({
    provider: id.optional(),
    model: id.optional(),
    kickoff_message: z
      .string()
      .trim()
      .min(1)
      .max(64 * 1024)
      .optional(),
    metadata: metadata.optional(),
  })
  .strict()
  .nullish();
export type StartProjectTaskRequest = NonNullable<z.infer<typeof StartProjectTaskRequest>>;

export const ProjectTaskView = z
  .object({
    project_task_id: z.string(),
    project_id: z.string(),
    title: z.string(),
    description: z.string().nullable(),
    status: ProjectTaskStatus,
    assignee_member_id: z.string().nullable(),
    primary_session_id: z.string().nullable(),
    latest_run_id: z.string().nullable(),
    discussion: z.object({ channel_id: z.string(), thread_root_message_id: z.string() }).nullable(),
    blocked_by: z.array(z.string()),
    output: z.unknown().nullable(),
    metadata: metadata,
    created_at_ms: z.number().int(),
    updated_at_ms: z.number().int(),
  })
  .meta({ id: 'ProjectTaskView' });
export type ProjectTaskView = z.infer<typeof ProjectTaskView>;

export const ProjectParams = z.object({ project_id: z.string().min(1) });
export const MemberParams = ProjectParams.extend({ member_id: z.string().min(1) });
export const LinkParams = ProjectParams.extend({ channel_id: z.string().min(1) });
export const TaskParams = ProjectParams.extend({ task_id: z.string().min(1) });

const page = { page: z.string().optional(), cursor: z.string().optional(), limit: z.string().optional() };
export const ListProjectsQuery = z.object({
  query: z.string().optional(),
  status: ProjectStatus.optional(),
  member_session_id: z.string().optional(),
  channel_id: z.string().optional(),
  ...page,
});
export const ListProjectTasksQuery = z.object({
  query: z.string().optional(),
  status: z
    .string()
    .optional()
    .transform((v) => (v === undefined ? undefined : v.replace(/-/g, '_')))
    .pipe(ProjectTaskStatus.optional()),
  assignee_member_id: z.string().optional(),
  ...page,
});
export const ProjectEventsQuery = z.object({
  after: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

export const ProjectEventView = z
  .object({
    id: z.number().int(),
    kind: z.string(),
    project_task_id: z.string().nullable(),
    run_id: z.string().nullable(),
    created_at_ms: z.number().int(),
    data: metadata,
  })
  .meta({ id: 'ProjectEventView' });
