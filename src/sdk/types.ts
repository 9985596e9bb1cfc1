// Wire shapes as the client sees them. Deliberately loose (index signatures): the daemon adds
// fields over time and the client must keep working; only the fields the CLI reads are named.

export type JsonObject = Record<string, unknown>;

export type RunStatus =
  | 'queued'
  | 'running'
  | 'waiting_for_approval'
  | 'waiting_for_user_question'
  | 'completed'
  | 'failed'
  | 'interrupted'
  | 'cancelled';

export const TERMINAL_RUN_STATUSES: readonly string[] = ['completed', 'failed', 'interrupted', 'cancelled'];

export const isTerminalRunStatus = (status: unknown): boolean =>
  typeof status === 'string' && TERMINAL_RUN_STATUSES.includes(status);

export interface OutputRecord {
  session_id?: string;
  run_id?: string;
  content?: string;
  source_kind?: string;
  [key: string]: unknown;
}

export interface RunView {
  run_id: string;
  session_id: string;
  status: string;
  kind?: string;
  agent_id?: string;
  submitted_at_ms?: number;
  updated_at_ms?: number;
  started_at_ms?: number;
  finished_at_ms?: number;
  queued_position?: number;
  request?: { text_preview?: string; provider?: string; model?: string; [key: string]: unknown };
  outputs?: OutputRecord[];
  error?: unknown;
  /** While `waiting_for_approval`. */
  pending_approval_ids?: string[];
  pending_approvals?: ApprovalRequest[];
  /** While `waiting_for_user_question`. */
  pending_question_ids?: string[];
  pending_questions?: UserQuestionRequest[];
  [key: string]: unknown;
}

export interface SessionView {
  session_id: string;
  agent_id?: string;
  [key: string]: unknown;
}

export interface SessionSummary {
  session_id: string;
  status?: string;
  pending_approvals?: number;
  pending_questions?: number;
  [key: string]: unknown;
}

export interface PageInfo {
  limit: number;
  total_count?: number;
  has_more: boolean;
  next_cursor?: string;
  order?: string;
  [key: string]: unknown;
}

export interface Page<T> {
  items: T[];
  pagination: PageInfo;
  [key: string]: unknown;
}

/** List routes answer a legacy array unless `page` or `cursor` asks for the envelope (api-core §1.5). */
export type ListResult<T> = T[] | Page<T>;

export const itemsOf = <T>(result: ListResult<T>): T[] => (Array.isArray(result) ? result : result.items);

export const isPage = <T>(result: ListResult<T>): result is Page<T> => !Array.isArray(result);

export interface PageQuery {
  page?: boolean;
  cursor?: string;
  limit?: number;
}

export interface RunListQuery extends PageQuery {
  session_id?: string;
  order?: 'asc' | 'desc';
  priority_active?: boolean;
}

export interface CreateSessionRequest {
  session_id?: string;
  thread_id?: string;
  persona_id?: string;
  capability_scope?: JsonObject;
  credential_scope?: JsonObject;
  [key: string]: unknown;
}

/** An ordered input item (api-core §3.6): text, a stored asset, a board, or a file uploaded inline. */
export type InputItem =
  | { type: 'text'; text: string }
  | { type: 'asset_reference'; asset_id: string }
  | { type: 'board_reference'; board_id: string; revision_id?: string }
  | { type: 'inline_asset'; file_name: string; media_type?: string; content_base64: string };

/** A legacy attachment, appended after `content`. */
export type InputAttachment = Extract<InputItem, { type: 'asset_reference' | 'inline_asset' }>;

/** A part of a DaemonOutputRecord (api-core §3.7). */
export type OutputPart =
  | { type: 'text'; text: string }
  | { type: 'attachment'; attachment: { id: string; media_type: string; file_name: string } };

export interface SubmitInputRequest {
  content?: string;
  provider?: string;
  generation?: JsonObject;
  input_items?: InputItem[];
  attachments?: InputAttachment[];
  metadata?: unknown;
  source_plugin?: string;
  source_kind?: string;
  actor_id?: string;
  [key: string]: unknown;
}

export interface SubmitRunRequest extends SubmitInputRequest {
  idempotency_key?: string;
}

export interface RunEventEntry {
  timestamp_ms: number;
  run_id: string;
  session_id?: string;
  agent_id?: string;
  event: { type: string; [key: string]: unknown };
  [key: string]: unknown;
}

export interface SessionEventLog {
  session?: JsonObject;
  daemon_outputs?: OutputRecord[];
  run_events?: RunEventEntry[];
  [key: string]: unknown;
}

export interface InterruptResponse {
  interrupted: boolean;
  snapshot?: unknown;
  [key: string]: unknown;
}

export interface ProbeResult {
  ok: boolean;
  status: number;
  body: string;
}

/** One parsed SSE frame. `id` is absent on heartbeats; it stays a string because ids exceed 2^53. */
export interface SseFrame {
  id?: string;
  event: string;
  data: any;
}

export interface StreamQuery {
  cursor?: string;
}

export interface GlobalStreamQuery extends StreamQuery {
  session_id?: string;
  run_id?: string;
}

/** A secret slot as every read returns it: metadata and a redacted summary, never the value. */
export interface AuthSlotStatus {
  slot_id: string;
  provider: string;
  mode: string;
  summary: string;
  updated_at_ms: number;
  details: JsonObject;
  [key: string]: unknown;
}

/** The full, write-only record `POST /v1/runtime/secrets` takes. */
export interface AuthSlotRecord {
  slot_id: string;
  /** `generic`, `anthropic`, `google`, `open_ai` (or `openai`), `openrouter`, `xai`. */
  provider: string;
  mode: 'opaque_secret' | 'api_key' | 'oauth_account';
  /** `{"value": …}` for opaque secrets, `{"kind": "api_key", "api_key": …}` for API keys. */
  state: JsonObject;
  updated_at_ms?: number;
}

// --- approvals and questions (api-core §4) ------------------------------------------------

/** A tool call waiting for an operator decision (`pending_approvals[]`, `GET /v1/approvals`). */
export interface ApprovalRequest {
  id: string;
  tool_call_id?: string;
  tool_name: string;
  input?: unknown;
  scope?: string;
  reason?: string;
  [key: string]: unknown;
}

export interface PendingApprovalView {
  session_id: string;
  run_id: string;
  request: ApprovalRequest;
  created_at_ms?: number;
  [key: string]: unknown;
}

export interface ApprovalResolution {
  request_id: string;
  behavior: 'allow' | 'deny';
  updated_input?: JsonObject;
  justification?: string;
  reason?: string;
  /** Extension: `session` also adds an allow rule for this tool to the session. */
  remember?: 'session';
  /** Extension: record this as the tool's result instead of running it (outcome unknown after restart). */
  result?: string;
}

export interface ResolveApprovalsRequest {
  idempotency_key?: string;
  resolutions: ApprovalResolution[];
}

export interface QuestionOption {
  id: string;
  label: string;
  description?: string;
  preview?: string;
  [key: string]: unknown;
}

export interface UserQuestion {
  id: string;
  header?: string;
  question: string;
  options: QuestionOption[];
  multi_select?: boolean;
  [key: string]: unknown;
}

export interface UserQuestionRequest {
  id: string;
  tool_call_id?: string;
  questions: UserQuestion[];
  created_at_ms?: number;
  expires_at_ms?: number;
  [key: string]: unknown;
}

export interface PendingQuestionView {
  session_id: string;
  agent_id?: string;
  run_id: string;
  run_kind?: string;
  request: UserQuestionRequest;
  [key: string]: unknown;
}

export interface QuestionListQuery extends PageQuery {
  session_id?: string;
}

export interface QuestionAnswer {
  question_id: string;
  selected_option_ids: string[];
  freeform_answer?: string;
}

export interface UserQuestionResolution {
  request_id: string;
  answers: QuestionAnswer[];
  declined: boolean;
  justification?: string;
}

export interface ResolveUserQuestionRequest {
  idempotency_key?: string;
  resolution: UserQuestionResolution;
}

export interface CancelQuestionRequest {
  idempotency_key?: string;
  justification?: string;
}

// --- permissions (ops-runtime §6) -----------------------------------------------------------

/** Wire (camelCase) permission modes; the CLI spells them in kebab-case. */
export const PERMISSION_MODES = ['default', 'acceptEdits', 'bypassPermissions', 'plan', 'dontAsk'] as const;
export type PermissionMode = (typeof PERMISSION_MODES)[number];

export const DEBUG_LEVELS = ['off', 'on', 'redacted', 'full'] as const;
export type DebugLevel = (typeof DEBUG_LEVELS)[number];

/** POST /v1/runtime/system-prompt `settings`: an override replaces the whole prompt. */
export interface SystemPromptSettings {
  override_prompt?: string | null;
  custom_prompt?: string | null;
  append_prompt?: string | null;
  language?: string | null;
  output_style?: string | null;
}

/** One entry of GET /v1/runtime/revisions (hook executor bodies redacted). */
export interface RuntimeRevision {
  revision: number;
  setting: string;
  source: 'runtime_api' | 'runtime_api_force';
  updated_at_ms: number;
  current: boolean;
  value: unknown;
  rollback_of_revision?: number;
  /** Whether a rollback can target it (records from before rollback existed cannot). */
  rollback_target: boolean;
  settings: JsonObject | null;
}

export interface RuntimeRevisions {
  current_revision: number;
  history_limit: number;
  revisions: RuntimeRevision[];
}

export interface PermissionCheckRequest {
  tool_name: string;
  tool_call_id?: string;
  session_id?: string;
  input?: unknown;
  mode_override?: PermissionMode;
}

export interface PermissionExplanation {
  effective_mode?: string;
  decision: 'allow' | 'ask' | 'deny';
  base_decision?: string;
  mode_applied?: boolean;
  mode_effect?: string;
  matched_rule?: string;
  matched_rule_scope?: string;
  matched_rule_origin?: string;
  approval_required?: boolean;
  scope?: string;
  reason?: string;
  [key: string]: unknown;
}

export interface PermissionMatrix {
  modes: string[];
  tools: Array<{ tool_name: string; decisions: Record<string, string>; [key: string]: unknown }>;
  [key: string]: unknown;
}
