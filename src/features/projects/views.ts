// Rows → wire views (api-collab §2): JSON columns parsed, booleans from integers.
import type {
  ProjectLinkRow,
  ProjectMemberRow,
  ProjectRow,
  ProjectTaskRow,
} from '../../store/repos/projects.ts';
import type {
  ProjectChannelLinkView,
  ProjectMemberView,
  ProjectTaskStatus,
  ProjectTaskView,
  ProjectView,
} from './schema.ts';

const obj = (s: string | null): Record<string, unknown> =>
  s ? (JSON.parse(s) as Record<string, unknown>) : {};

export const memberView = (m: ProjectMemberRow): ProjectMemberView => ({
  member_id: m.member_id,
  member_kind: m.member_kind as ProjectMemberView['member_kind'],
  display_name: m.display_name,
  session_id: m.session_id,
  agent_id: m.agent_id,
  actor_id: m.actor_id,
  role: m.role,
  expertise_tags: m.expertise_tags ? (JSON.parse(m.expertise_tags) as string[]) : [],
  metadata: obj(m.metadata),
  created_at_ms: m.created_at_ms,
  updated_at_ms: m.updated_at_ms,
});

export const linkView = (l: ProjectLinkRow): ProjectChannelLinkView => ({
  channel_id: l.channel_id,
  role: l.role,
  default_for_new_tasks: l.default_for_new_tasks === 1,
  mirror_members: l.mirror_members === 1,
  metadata: obj(l.metadata),
  created_at_ms: l.created_at_ms,
  updated_at_ms: l.updated_at_ms,
});

export const blockedBy = (t: ProjectTaskRow): string[] => JSON.parse(t.blocked_by) as string[];

export const taskView = (t: ProjectTaskRow): ProjectTaskView => ({
  project_task_id: t.project_task_id,
  project_id: t.project_id,
  title: t.title,
  description: t.description,
  status: t.status as ProjectTaskStatus,
  assignee_member_id: t.assignee_member_id,
  primary_session_id: t.primary_session_id,
  latest_run_id: t.latest_run_id,
  discussion:
    t.discussion_channel_id && t.discussion_thread_root_message_id
      ? { channel_id: t.discussion_channel_id, thread_root_message_id: t.discussion_thread_root_message_id }
      : null,
  blocked_by: blockedBy(t),
  output: t.output === null ? null : JSON.parse(t.output),
  metadata: obj(t.metadata),
  created_at_ms: t.created_at_ms,
  updated_at_ms: t.updated_at_ms,
});

export function projectView(
  p: ProjectRow,
  members: ProjectMemberRow[],
  links: ProjectLinkRow[],
  tasks: Array<Pick<ProjectTaskRow, 'status'>>,
): ProjectView {
  const counts: Record<string, number> = { total: tasks.length };
  for (const t of tasks) counts[t.status] = (counts[t.status] ?? 0) + 1;
  return {
    project_id: p.project_id,
    display_name: p.display_name,
    description: p.description,
    status: p.status as ProjectView['status'],
    members: members.map(memberView),
    channel_links: links.map(linkView),
    task_counts: counts,
    metadata: obj(p.metadata),
    created_at_ms: p.created_at_ms,
    updated_at_ms: p.updated_at_ms,
  };
}
