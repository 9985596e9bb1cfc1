// Table types of channels, channel stimuli, projects (issue 17), boards, playbooks and flows
// (issue 18).
// Kept apart by domain so each file stays readable; schema-extensions.ts re-exports them.
import type { Generated } from 'kysely';

/** Channels (migration 0030, api-collab §1); JSON columns are text. */
export interface ChannelsTable {
  channel_id: string;
  title: string;
  description: string | null;
  purpose: string | null;
  pinned_asset_ids: string;
  created_by: string | null;
  autonomy_policy: string;
  default_participation_mode: string;
  paused: number;
  metadata: string | null;
  last_seq: number;
  counters: string;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface ChannelMembersTable {
  channel_id: string;
  member_id: string;
  member_kind: string;
  display_name: string;
  display_name_mode: string;
  session_id: string | null;
  actor_id: string | null;
  role: string | null;
  expertise_tags: string;
  participation_mode: string | null;
  muted: number;
  last_spoke_at_ms: number | null;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface ChannelEventsTable {
  channel_id: string;
  seq: number;
  kind: string;
  payload: string;
  created_at_ms: number;
}

export interface ChannelMessagesTable {
  message_id: string;
  channel_id: string;
  seq: number;
  thread_root_message_id: string;
  reply_to_message_id: string | null;
  sender_member_id: string;
  sender_actor_id: string;
  sender_kind: string;
  sender_display_name: string;
  sender_session_id: string | null;
  addressed_member_ids: string;
  output: string;
  search_text: string;
  metadata: string | null;
  origin_run_id: string | null;
  created_at_ms: number;
}

export interface ChannelReactionsTable {
  channel_id: string;
  message_id: string;
  actor_id: string;
  emoji: string;
  created_at_ms: number;
}

export interface ChannelLeasesTable {
  turn_id: string;
  channel_id: string;
  thread_root_message_id: string;
  origin_message_id: string;
  holder_member_id: string;
  holder_session_id: string;
  active_run_id: string | null;
  state: string;
  remaining_reply_budget: number;
  expires_at_ms: number;
  queued_candidate_session_ids: string;
  last_human_message_id: string | null;
  agent_reply_count_since_last_human: number;
  posted_message_id: string | null;
  end_reason: string | null;
  created_at_ms: number;
  ended_at_ms: number | null;
}

export interface ChannelThreadsTable {
  channel_id: string;
  thread_root_message_id: string;
  last_human_message_id: string | null;
  turns_since_human: number;
  agent_replies_since_human: number;
  queued_member_ids: string;
  origin_message_id: string;
  autonomous: number;
  created_at_ms: number;
  updated_at_ms: number;
}

/** Channel stimuli (migration 0031, api-collab §1.8); JSON columns are text. */
export interface ChannelStimuliTable {
  stimulus_id: string;
  channel_id: string;
  scope: string;
  thread_root_message_id: string | null;
  kind: string;
  visibility_hint: string;
  content: string;
  addressed_member_ids: string;
  sender_session_id: string | null;
  sender_actor_id: string | null;
  sender_display_name: string | null;
  source_kind: string | null;
  source_ref: string | null;
  dedupe_key: string | null;
  progress_key: string | null;
  available_at_ms: number | null;
  expires_at_ms: number | null;
  metadata: string | null;
  state: string;
  state_reason: string | null;
  retry_at_ms: number | null;
  claimed_at_ms: number | null;
  dispatched_message_id: string | null;
  dispatched_thread_root_message_id: string | null;
  dispatched_at_ms: number | null;
  related_stimulus_id: string | null;
  attempts: number;
  created_at_ms: number;
  updated_at_ms: number;
}

/** The per-root-thread work projection (migration 0031, api-collab §1.9). */
export interface ChannelThreadWorkTable {
  channel_id: string;
  thread_root_message_id: string;
  topic_kind: string;
  status: string;
  owner_session_id: string | null;
  initiative_key: string | null;
  source_kind: string | null;
  source_ref: string | null;
  last_stimulus_id: string | null;
  last_signal_at_ms: number | null;
  last_main_promotion_at_ms: number | null;
  bindings: string;
  progress_snapshots: string;
  metadata: string | null;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface ChannelStimulusCountersTable {
  channel_id: string;
  suppressed_stimuli: number;
  updated_at_ms: number;
}

/** Projects (api-collab §2), migration 0032. JSON columns hold JSON text. */
export interface ProjectsTable {
  project_id: string;
  display_name: string;
  description: string | null;
  status: string;
  metadata: string | null;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface ProjectMembersTable {
  project_id: string;
  member_id: string;
  position: number;
  member_kind: string;
  display_name: string;
  session_id: string | null;
  agent_id: string | null;
  actor_id: string | null;
  role: string | null;
  expertise_tags: string | null;
  metadata: string | null;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface ProjectChannelLinksTable {
  project_id: string;
  channel_id: string;
  position: number;
  role: string | null;
  default_for_new_tasks: number;
  mirror_members: number;
  metadata: string | null;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface ProjectTasksTable {
  project_id: string;
  project_task_id: string;
  title: string;
  description: string | null;
  status: string;
  assignee_member_id: string | null;
  primary_session_id: string | null;
  latest_run_id: string | null;
  discussion_channel_id: string | null;
  discussion_thread_root_message_id: string | null;
  /** JSON array of task ids. */
  blocked_by: string;
  /** JSON value. */
  output: string | null;
  metadata: string | null;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface ProjectMirroredMembersTable {
  project_id: string;
  channel_id: string;
  member_id: string;
}

export interface ProjectEventsTable {
  id: Generated<number>;
  project_id: string;
  kind: string;
  project_task_id: string | null;
  run_id: string | null;
  created_at_ms: number;
  data: string;
}

/** Boards (api-collab §5), migration 0034. JSON columns hold JSON text. */
export interface BoardsTable {
  board_id: string;
  display_name: string;
  owner_session_id: string | null;
  metadata: string | null;
  /** The single reachable chain tip (null before the first revision). */
  tip_revision_id: string | null;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface BoardRevisionsTable {
  revision_id: string;
  board_id: string;
  /** Insertion order on the board (1, 2, …), unique per board: the database-level linearity guard. */
  sequence: number;
  previous_revision_id: string | null;
  client_revision_id: string | null;
  /** sha256 of the canonical request payload, to tell an idempotent retry from a conflict. */
  payload_digest: string;
  render_asset_id: string;
  state_asset_id: string | null;
  note: string | null;
  source_session_id: string | null;
  source_run_id: string | null;
  metadata: string | null;
  /** `accepted` or `quarantined` (startup repair). */
  status: string;
  quarantine_reason: string | null;
  created_at_ms: number;
}

/** Playbooks and Flows (api-collab §3), migration 0033. JSON columns hold JSON text. */
export interface PlaybookVersionsTable {
  playbook_id: string;
  version: string;
  digest: string;
  /** The manifest as canonical JSON (the digested bytes). */
  manifest: string;
  status: string;
  evidence_refs: string;
  revoked_reason: string | null;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface FlowsTable {
  flow_id: string;
  idempotency_key: string | null;
  playbook_id: string;
  version: string;
  digest: string;
  session_id: string;
  run_id: string | null;
  nonce: string;
  request_digest: string;
  metadata: string | null;
  evidence_refs: string;
  cancelled_at_ms: number | null;
  completed_at_ms: number | null;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface PlaybookEventsTable {
  id: Generated<number>;
  kind: string;
  playbook_id: string;
  flow_id: string | null;
  created_at_ms: number;
  data: string;
}
