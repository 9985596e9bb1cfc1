// Table types of the extension domains (issues 13 and 14: debug capture, skills, personas, hooks,
// the credential broker), kept apart from the core tables of schema.ts, which re-exports them.
import type { Generated } from 'kysely';

/** A run's debug evidence (migration 0018): one row per run that has captured artifacts. */
export interface DebugBundlesTable {
  run_id: string;
  session_id: string;
  /** The capture level of the bundle's latest artifact. */
  level: string;
  created_at_ms: number;
  updated_at_ms: number;
  artifact_count: number;
  /** Stored bytes (envelopes when encrypted). */
  bytes: number;
  plaintext_bytes: number;
}

/** One debug artifact: its summary, then its body (plaintext, or an AES-GCM envelope). */
export interface DebugArtifactsTable {
  run_id: string;
  artifact_id: string;
  format: string;
  level: string;
  updated_at_ms: number;
  bytes: number;
  plaintext_bytes: number;
  sha256: string;
  truncated: number;
  original_bytes: number | null;
  encrypted: number;
  key_id: string | null;
  body: Buffer;
}

/** Mutable persona records (api-core §9), migration 0019. JSON columns hold JSON text. */
export interface PersonasTable {
  persona_id: string;
  display_name: string;
  soul: string;
  capability_scope: string | null;
  default_skills: string | null;
  metadata: string | null;
  version: number;
  created_at_ms: number;
  updated_at_ms: number;
}

/** An active inline skill of a session (migration 0017); `snapshot` is the ActiveSkill JSON. */
export interface SkillActivationsTable {
  session_id: string;
  name: string;
  digest: string;
  /** The run and tool call that activated it (the latest, when activated again). */
  run_id: string;
  tool_call_id: string;
  activated_at_ms: number;
  snapshot: string;
}

export interface HookDeadLettersTable {
  id: string;
  created_at_ms: number;
  event: string;
  hook_name: string;
  /** Size of `record`, for pruning by total bytes. */
  bytes: number;
  resolved_at_ms: number | null;
  /** The redacted HookDeadLetterRecord (JSON), resolutions included. */
  record: string;
}

export interface AuthLeasesTable {
  lease_id: string;
  grant_id: string;
  subject_id: string;
  subject_epoch: number;
  audience_type: string;
  audience: string;
  slot_id: string | null;
  issued_at_ms: number;
  expires_at_ms: number;
  revoked_at_ms: number | null;
  revoke_reason: string | null;
  token_digest: string;
}

export interface AuthSubjectsTable {
  subject_id: string;
  current_epoch: number;
  revoked_at_ms: number | null;
  updated_at_ms: number;
}

export interface AuthSlotRevocationsTable {
  slot_id: string;
  revoked_at_ms: number;
}

/** The asset catalog (api-core §7), migration 0021. Digests are lowercase hex SHA-256. */
export interface AssetsTable {
  asset_id: string;
  media_type: string;
  file_name: string;
  sha256: string;
  byte_length: number;
  created_at_ms: number;
  text_sha256: string | null;
  text_byte_length: number | null;
  preview_media_type: string | null;
  preview_sha256: string | null;
  preview_byte_length: number | null;
}

/** One edge of the asset reference graph; `hard` is 1 or 0. */
export interface AssetReferencesTable {
  asset_id: string;
  domain: string;
  owner_id: string;
  role: string;
  hard: number;
  parent_id: string | null;
  detail_id: string | null;
  created_at_ms: number;
}

export interface AssetTombstonesTable {
  asset_id: string;
  media_type: string;
  sha256: string;
  byte_length: number;
  deleted_at_ms: number;
  /** JSON array of payload digests a delete has yet to remove from disk, or null when done. */
  pending_digests: string | null;
}

/** Payload bytes kept in the database (PostgreSQL stores), by digest. */
export interface AssetPayloadsTable {
  sha256: string;
  byte_length: number;
  created_at_ms: number;
  data: Buffer;
}

/** Observation sources (api-core §8.2), migration 0022. Booleans are 0/1; tokens only as digests. */
export interface ObservationSourcesTable {
  source_id: string;
  display_name: string;
  kind: string;
  sensitivity: string;
  retention_seconds: number;
  max_active_observations: number;
  max_active_bytes: number;
  ingest_rate_limit_window_ms: number;
  ingest_rate_limit_burst: number;
  purge_raw_on_retention: number;
  allow_materialization: number;
  allow_output_delivery: number;
  token_digest: string | null;
  upload_token_version: number;
  token_issued_at_ms: number | null;
  token_expires_at_ms: number | null;
  previous_token_digest: string | null;
  previous_token_valid_until_ms: number | null;
  token_revoked_at_ms: number | null;
  capture_machine_id: string | null;
  disabled_at_ms: number | null;
  disabled_reason: string | null;
  created_at_ms: number;
  updated_at_ms: number;
}

/** Observations (api-core §8.3), migration 0022. `metadata` is JSON text. */
export interface ObservationsTable {
  observation_id: string;
  source_id: string;
  kind: string;
  sensitivity: string;
  retention_state: string;
  asset_id: string;
  canonical_text_asset_id: string | null;
  media_type: string;
  sha256: string;
  byte_length: number;
  captured_at_ms: number;
  received_at_ms: number;
  stream_id: string | null;
  seq_no: number | null;
  idempotency_key: string;
  request_fingerprint: string;
  metadata: string | null;
  capture_group_id: string | null;
  purged_at_ms: number | null;
  purge_reason: string | null;
}

/** The observation audit log (migration 0022); `detail` is sanitized JSON. */
export interface ObservationAuditTable {
  id: Generated<number>;
  at_ms: number;
  event: string;
  source_id: string | null;
  machine_id: string | null;
  observation_id: string | null;
  detail: string;
}

/** Capture agents (concepts §4.14), migration 0022. JSON columns hold JSON text. */
export interface CaptureAgentsTable {
  machine_id: string;
  batch_id: string;
  os_profile: string;
  status: string;
  source_ids: string;
  leases: string;
  heartbeat_token_digest: string | null;
  heartbeat_token_version: number;
  heartbeat_interval_ms: number;
  heartbeat_grace_ms: number;
  last_heartbeat_at_ms: number | null;
  heartbeat_deadline_ms: number;
  heartbeat_state: string;
  heartbeat_missing_since_ms: number | null;
  last_heartbeat_agent_version: string | null;
  last_heartbeat_observed_source_ids: string | null;
  last_heartbeat_unobserved_source_ids: string | null;
  revoked_at_ms: number | null;
  revoke_reason: string | null;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface CaptureProvisionBatchesTable {
  batch_id: string;
  machine_ids: string;
  applied_at_ms: number;
}

/** Output deliveries (migration 0026): one row per output and reply target. */
export interface DeliveriesTable {
  id: Generated<number>;
  delivery_id: string;
  run_id: string;
  session_id: string;
  plugin: string;
  address: string;
  target_digest: string;
  payload: string;
  status: string;
  attempts: number;
  next_attempt_at_ms: number;
  in_flight_since_ms: number | null;
  lease_owner: string | null;
  lease_expires_at_ms: number | null;
  last_error_code: string | null;
  last_error: string | null;
  needs_operator: number;
  progress: string | null;
  replayed_from_delivery_id: string | null;
  resolved_at_ms: number | null;
  resolution_reason: string | null;
  created_at_ms: number;
  updated_at_ms: number;
  delivered_at_ms: number | null;
  dead_lettered_at_ms: number | null;
}

/** Runtime-managed connectors (migration 0025): non-secret settings and secret locations, JSON. */
export interface ConnectorsTable {
  kind: string;
  name: string;
  settings: string;
  secrets: string;
  created_at_ms: number;
  updated_at_ms: number;
}

/** One inbound event's receipt: its hashed key, payload fingerprint and the run it became. */
export interface ConnectorReceiptsTable {
  kind: string;
  connector: string;
  key_sha256: string;
  fingerprint: string;
  session_id: string;
  run_id: string;
  created_at_ms: number;
}

/** A binding key bound (for good) to a session. */
export interface ConnectorBindingsTable {
  binding_key: string;
  session_id: string;
  created_at_ms: number;
}

/** A derivation record (api-core §8.5), migration 0023. `subject` and `backend` hold JSON text. */
export interface DerivationsTable {
  derivation_id: string;
  profile: string;
  profile_version: number;
  subject_key: string;
  subject: string;
  source_fingerprint: string;
  /** `completed` | `failed`: records are terminal attempts, written once. */
  status: string;
  result_asset_id: string | null;
  reused_subject_asset: number;
  backend: string | null;
  error: string | null;
  created_at_ms: number;
}

/** The record a versioned derivation cache key currently answers with (migration 0023). */
export interface DerivationCacheTable {
  profile: string;
  profile_version: number;
  subject_key: string;
  source_fingerprint: string;
  derivation_id: string;
  updated_at_ms: number;
}
/** One external connector's child process: owner replica (lease), state and counters. */
export interface ExternalConnectorChildrenTable {
  connector: string;
  owner_replica_id: string | null;
  owner_expires_at_ms: number;
  host: string | null;
  state: string;
  pid: number | null;
  launch_id: string | null;
  instance_id: string | null;
  grant_id: string | null;
  launches: number;
  restarts: number;
  last_error: string | null;
  started_at_ms: number | null;
  ready_at_ms: number | null;
  updated_at_ms: number;
}

/** Assets an in-flight external delivery may serve to its sidecar. */
export interface ExternalDeliveryAssetsTable {
  connector: string;
  delivery_id: string;
  asset_id: string;
  created_at_ms: number;
  settled_at_ms: number | null;
}

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

/** The Telegram poller's cursor and lease (migration 0027), one row per polling connector. */
export interface TelegramPollingTable {
  connector: string;
  next_offset: number;
  lease_owner: string | null;
  lease_expires_at_ms: number | null;
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
