// Kysely table types: the durable shape of daemon state. JSON columns are TEXT holding JSON.
import type { Generated, Kysely, Transaction } from 'kysely';
import type {
  AssetPayloadsTable,
  AssetReferencesTable,
  AssetsTable,
  AssetTombstonesTable,
  AuthLeasesTable,
  AuthSlotRevocationsTable,
  AuthSubjectsTable,
  BoardRevisionsTable,
  BoardsTable,
  CaptureAgentsTable,
  CaptureProvisionBatchesTable,
  ChannelEventsTable,
  ChannelLeasesTable,
  ChannelMembersTable,
  ChannelMessagesTable,
  ChannelReactionsTable,
  ChannelStimuliTable,
  ChannelStimulusCountersTable,
  ChannelsTable,
  ChannelThreadsTable,
  ChannelThreadWorkTable,
  ConnectorBindingsTable,
  ConnectorReceiptsTable,
  ConnectorsTable,
  DebugArtifactsTable,
  DebugBundlesTable,
  DeliveriesTable,
  DerivationCacheTable,
  DerivationsTable,
  ExternalConnectorChildrenTable,
  ExternalDeliveryAssetsTable,
  FlowsTable,
  HookDeadLettersTable,
  LearningCandidatesTable,
  LearningSkillsTable,
  LearningSkillWorktreesTable,
  LearningsTable,
  ObservationAuditTable,
  ObservationSourcesTable,
  ObservationsTable,
  PersonasTable,
  PlaybookEventsTable,
  PlaybookVersionsTable,
  ProjectChannelLinksTable,
  ProjectEventsTable,
  ProjectMembersTable,
  ProjectMirroredMembersTable,
  ProjectsTable,
  ProjectTasksTable,
  SkillActivationsTable,
  TelegramPollingTable,
} from './schema-extensions.ts';
import type { RunMemoriesTable } from './schema-memory.ts';
import type {
  AgentsTable,
  MailboxClarificationsTable,
  MailboxMessagesTable,
  ScheduleExecutionsTable,
  SchedulesTable,
  TaskDependenciesTable,
  TasksTable,
} from './schema-work.ts';

export type * from './schema-extensions.ts';
export type * from './schema-memory.ts';
export type * from './schema-work.ts';

export interface SessionsTable {
  session_id: string;
  agent_id: string;
  thread_id: string | null;
  created_at_ms: number;
  updated_at_ms: number;
  ended_at_ms: number | null;
  end_reason: string | null;
  route_policy: string | null;
  capability_scope: string | null;
  credential_scope: string | null;
  reply_targets: string | null;
  /** The bound persona snapshot (JSON, src/engine/persona-snapshot.ts), migration 0019 fills it. */
  persona: string | null;
  /** The bound persona's id (from the snapshot), for listing by persona; migration 0019. */
  persona_id: string | null;
  /** Budget limits (JSON) applying to the sum of all runs of the session. */
  budget: string | null;
  /** Output contract (JSON: the normalized schema and max_repair_attempts). */
  output_contract: string | null;
  /** Input contract (JSON: the schema every submission must match), migration 0015. */
  input_contract: string | null;
  /** Session-scope permission rules (JSON array), checked before the defaults. */
  permission_rules: string | null;
}

export interface ApprovalsTable {
  request_id: string;
  run_id: string;
  session_id: string;
  tool_call_id: string;
  tool_name: string;
  /** The exact tool arguments awaiting review (JSON). */
  input: string;
  scope: string;
  reason: string;
  status: 'pending' | 'allowed' | 'denied';
  resolution: string | null;
  created_at_ms: number;
  resolved_at_ms: number | null;
}

export interface QuestionsTable {
  request_id: string;
  run_id: string;
  session_id: string;
  tool_call_id: string;
  /** UserQuestionRequest (JSON). */
  request: string;
  status: 'pending' | 'answered' | 'declined' | 'cancelled' | 'expired';
  resolution: string | null;
  created_at_ms: number;
  expires_at_ms: number | null;
  resolved_at_ms: number | null;
}

export interface RunsTable {
  run_id: string;
  session_id: string;
  agent_id: string;
  kind: string;
  status: string;
  /** Global submission order; FIFO position within a session derives from it. */
  queue_seq: number;
  submitted_at_ms: number;
  updated_at_ms: number;
  started_at_ms: number | null;
  finished_at_ms: number | null;
  /** The full replayable request (JSON). */
  request: string;
  /** RunRequestSummary (JSON). */
  summary: string;
  route_id: string;
  model: string;
  error: string | null;
  idempotency_key_hash: string | null;
  idempotency_fingerprint: string | null;
  /** RunUsage (JSON): tokens, cost and model calls so far. */
  usage: string | null;
  /** Typed failure reason (e.g. budget_exhausted), next to the human `error`. */
  error_code: string | null;
}

export interface ReplicasTable {
  replica_id: string;
  pid: number;
  host: string;
  /** The replica's control API address, once it listens. */
  url: string | null;
  started_at_ms: number;
  heartbeat_at_ms: number;
  stopped_at_ms: number | null;
}

export interface RunLeasesTable {
  run_id: string;
  /** The replica executing the run. */
  replica_id: string;
  /** Fencing token: +1 at every claim; writes of an older generation are refused. */
  generation: number;
  expires_at_ms: number;
}

export interface RunEventsTable {
  id: Generated<number>;
  run_id: string;
  session_id: string;
  agent_id: string;
  timestamp_ms: number;
  event: string;
}

export interface EventsTable {
  id: Generated<number>;
  name: string;
  session_id: string | null;
  run_id: string | null;
  created_at_ms: number;
  data: string;
}

export interface OutputsTable {
  id: Generated<number>;
  session_id: string;
  run_id: string;
  created_at_ms: number;
  record: string;
}

/** A blob kept in the database (migration 0014): today the output of shell tasks on PostgreSQL. */
export interface BlobsTable {
  blob_id: string;
  /** Bytes ever appended, the discarded ones included. */
  total_bytes: number;
  /** Bytes the rotation dropped from the front; the retained ones start at this offset. */
  discarded_bytes: number;
  rotation_count: number;
  updated_at_ms: number;
}

export interface BlobChunksTable {
  blob_id: string;
  /** Offset of the first byte in everything ever appended to the blob. */
  start_byte: number;
  size_bytes: number;
  data: Buffer;
}

export interface JournalTable {
  session_id: string;
  seq: number;
  run_id: string | null;
  kind: string;
  created_at_ms: number;
  payload: string;
}

export interface MetaTable {
  key: string;
  value: string;
}

/** One auth slot of the secret store; `envelope` is the sealed state (src/secrets/crypto.ts). */
export interface AuthSlotsTable {
  slot_id: string;
  provider: string;
  mode: string;
  summary: string;
  details: string;
  envelope: string;
  key_id: string;
  source: string;
  created_at_ms: number;
  updated_at_ms: number;
}

/** A known value sealed with the master key: proves at start-up that the configured key is right. */
export interface AuthKeyCheckTable {
  id: string;
  key_id: string;
  envelope: string;
  created_at_ms: number;
}

export interface ExternalActionsTable {
  action_id: string;
  run_id: string;
  seq: number;
  /** The signed ExternalActionRecord (JSON). */
  record: string;
}

export interface PermissionAuditsTable {
  id: Generated<number>;
  session_id: string;
  run_id: string;
  tool_call_id: string;
  created_at_ms: number;
  /** The PermissionAuditRecord (JSON). */
  record: string;
}

export interface Database {
  sessions: SessionsTable;
  mailbox_messages: MailboxMessagesTable;
  mailbox_clarifications: MailboxClarificationsTable;
  agents: AgentsTable;
  runs: RunsTable;
  replicas: ReplicasTable;
  run_leases: RunLeasesTable;
  run_events: RunEventsTable;
  events: EventsTable;
  outputs: OutputsTable;
  blobs: BlobsTable;
  blob_chunks: BlobChunksTable;
  debug_bundles: DebugBundlesTable;
  debug_artifacts: DebugArtifactsTable;
  journal: JournalTable;
  daemon_meta: MetaTable;
  approvals: ApprovalsTable;
  questions: QuestionsTable;
  external_actions: ExternalActionsTable;
  permission_audits: PermissionAuditsTable;
  auth_slots: AuthSlotsTable;
  auth_key_check: AuthKeyCheckTable;
  tasks: TasksTable;
  task_dependencies: TaskDependenciesTable;
  schedules: SchedulesTable;
  schedule_executions: ScheduleExecutionsTable;
  skill_activations: SkillActivationsTable;
  personas: PersonasTable;
  hook_dead_letters: HookDeadLettersTable;
  auth_leases: AuthLeasesTable;
  auth_subjects: AuthSubjectsTable;
  auth_slot_revocations: AuthSlotRevocationsTable;
  assets: AssetsTable;
  asset_references: AssetReferencesTable;
  asset_tombstones: AssetTombstonesTable;
  asset_payloads: AssetPayloadsTable;
  observation_sources: ObservationSourcesTable;
  observations: ObservationsTable;
  observation_audit: ObservationAuditTable;
  capture_agents: CaptureAgentsTable;
  capture_provision_batches: CaptureProvisionBatchesTable;
  deliveries: DeliveriesTable;
  connectors: ConnectorsTable;
  connector_receipts: ConnectorReceiptsTable;
  connector_bindings: ConnectorBindingsTable;
  derivations: DerivationsTable;
  derivation_cache: DerivationCacheTable;
  external_connector_children: ExternalConnectorChildrenTable;
  external_delivery_assets: ExternalDeliveryAssetsTable;
  channels: ChannelsTable;
  channel_members: ChannelMembersTable;
  channel_events: ChannelEventsTable;
  channel_messages: ChannelMessagesTable;
  channel_reactions: ChannelReactionsTable;
  channel_leases: ChannelLeasesTable;
  channel_threads: ChannelThreadsTable;
  channel_stimuli: ChannelStimuliTable;
  channel_thread_work: ChannelThreadWorkTable;
  channel_stimulus_counters: ChannelStimulusCountersTable;
  telegram_polling: TelegramPollingTable;
  projects: ProjectsTable;
  project_members: ProjectMembersTable;
  project_channel_links: ProjectChannelLinksTable;
  project_tasks: ProjectTasksTable;
  project_mirrored_members: ProjectMirroredMembersTable;
  project_events: ProjectEventsTable;
  boards: BoardsTable;
  board_revisions: BoardRevisionsTable;
  playbook_versions: PlaybookVersionsTable;
  flows: FlowsTable;
  playbook_events: PlaybookEventsTable;
  learning_candidates: LearningCandidatesTable;
  learnings: LearningsTable;
  learning_skills: LearningSkillsTable;
  run_memories: RunMemoriesTable;
  learning_skill_worktrees: LearningSkillWorktreesTable;
}

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;
/** Anything queries can run on: the database or an open transaction. */
export type Executor = Kysely<Database> | Transaction<Database>;
