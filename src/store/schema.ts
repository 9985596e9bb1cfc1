// Kysely table types: the durable shape of daemon state. JSON columns are TEXT holding JSON.
import type { Generated, Kysely, Transaction } from 'kysely';

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
  persona: string | null;
  /** Budget limits (JSON) applying to the sum of all runs of the session. */
  budget: string | null;
  /** Output contract (JSON: the normalized schema and max_repair_attempts). */
  output_contract: string | null;
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

export interface Database {
  sessions: SessionsTable;
  runs: RunsTable;
  run_events: RunEventsTable;
  events: EventsTable;
  outputs: OutputsTable;
  journal: JournalTable;
  daemon_meta: MetaTable;
  approvals: ApprovalsTable;
  questions: QuestionsTable;
  external_actions: ExternalActionsTable;
  auth_slots: AuthSlotsTable;
  auth_key_check: AuthKeyCheckTable;
}

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;
/** Anything queries can run on: the database or an open transaction. */
export type Executor = Kysely<Database> | Transaction<Database>;
