// Table types of the work domains (tasks, agents, mailboxes, schedules): kept apart from
// schema.ts so that file stays the list of tables; re-exported from it as before.
import type { Generated } from 'kysely';

/** A session task (work item or background shell task); `metadata` is a JSON object. */
export interface TasksTable {
  task_id: string;
  session_id: string;
  /** `work` (task tools) or `shell` (`bash` with run_in_background). */
  kind: string;
  title: string;
  description: string;
  status: string;
  owner_agent_id: string | null;
  /** JSON value, or null. */
  output: string | null;
  metadata: string;
  created_by_run_id: string | null;
  created_at_ms: number;
  updated_at_ms: number;
  /** Set by task_delete: hidden from lists, still readable by id. */
  archived_at_ms: number | null;
  /** The replica running a background shell task (null: work tasks, or rows from before replicas). */
  owner_replica?: string | null;
}

/** `task_id` waits for `blocked_by_task_id` (same session). */
export interface TaskDependenciesTable {
  session_id: string;
  task_id: string;
  blocked_by_task_id: string;
}

/** A child agent (sidechain); primary agents are sessions (sessions.agent_id). JSON in TEXT columns. */
export interface AgentsTable {
  agent_id: string;
  /** The child's own session (one session per agent). */
  session_id: string;
  parent_agent_id: string;
  parent_session_id: string;
  root_agent_id: string;
  /** 1 for a child of a primary agent. */
  depth: number;
  name: string;
  path: string;
  nickname: string | null;
  profile: string;
  retention: 'retain' | 'close_on_settle';
  /** Pinned at spawn: the mode the child's tool calls are judged under. */
  permission_mode: string;
  /** Tool-surface filter chain (JSON), the parent's plus the child's own. */
  tool_surface: string;
  /** What was inherited and requested at spawn (JSON snapshot). */
  inheritance: string;
  subtask: string | null;
  fork_context: string | null;
  spawned_by_run_id: string | null;
  spawn_request_id: string | null;
  launch_run_id: string | null;
  est_cost_microusd: number;
  est_cpu_ms: number;
  spawned_at_ms: number;
  updated_at_ms: number;
  settled_at_ms: number | null;
  closed_at_ms: number | null;
  close_reason: string | null;
  orphaned_at_ms: number | null;
}

/** A mailbox message (src/store/repos/mailboxes.ts): `payload` is JSON; `seq` orders per target. */
export interface MailboxMessagesTable {
  message_id: string;
  seq: number;
  /** message | child_outcome | parent_clarification | clarification_reply */
  kind: string;
  from_agent_id: string;
  to_agent_id: string;
  to_session_id: string;
  subject: string;
  payload: string;
  /** sha256 of the content: a repeated message_id must carry the same content. */
  fingerprint: string;
  correlation_id: string | null;
  /** queued | dispatched | delivered | dead_lettered | acked | consumed */
  status: string;
  delivery_run_id: string | null;
  delivery_attempts: number;
  last_error: string | null;
  created_at_ms: number;
  expires_at_ms: number | null;
  dispatched_at_ms: number | null;
  settled_at_ms: number | null;
}

/** A child's question to its parent; the child's tool call waits until it is resolved. */
export interface MailboxClarificationsTable {
  request_id: string;
  child_agent_id: string;
  child_session_id: string;
  child_run_id: string;
  child_tool_call_id: string;
  parent_agent_id: string;
  /** The question (JSON: question, header?, options?, context?). */
  question: string;
  request_message_id: string;
  /** pending | answered | declined | expired | cancelled */
  status: string;
  /** The resolution (JSON) once settled. */
  resolution: string | null;
  resolution_fingerprint: string | null;
  created_at_ms: number;
  expires_at_ms: number | null;
  resolved_at_ms: number | null;
}

/** A schedule (api-core §6.3); cadence, misfire_policy and request are JSON. */
export interface SchedulesTable {
  schedule_id: string;
  name: string;
  target_session_id: string;
  target_agent_id: string | null;
  owner_session_id: string | null;
  owner_agent_id: string | null;
  created_by_run_id: string | null;
  /** `<run_id>:<tool_call_id>` for schedules made by a tool call (a retried call finds its schedule). */
  creation_key: string | null;
  status: 'active' | 'paused' | 'completed' | 'canceled';
  cadence: string;
  overlap_policy: 'skip' | 'queue_one' | 'parallel';
  misfire_policy: string;
  max_executions: number | null;
  request: string;
  created_at_ms: number;
  updated_at_ms: number;
  /** The next cadence occurrence; the claim token (compare-and-set) of the scheduler. */
  next_fire_at_ms: number | null;
  paused_remaining_ms: number | null;
  queued_fire_at_ms: number | null;
  in_flight_fire_at_ms: number | null;
  in_flight_run_id: string | null;
  last_fire_at_ms: number | null;
  last_dispatched_run_id: string | null;
  last_error: string | null;
  last_scheduler_error: string | null;
  scheduler_retry_after_ms: number | null;
  scheduler_retry_attempt: number;
  execution_count: number;
  consecutive_failures: number;
}

/** One fire of a schedule (bounded history; live rows are never pruned). Booleans are 0/1. */
export interface ScheduleExecutionsTable {
  execution_id: Generated<number>;
  schedule_id: string;
  fire_at_ms: number;
  run_id: string | null;
  status: 'dispatched' | 'retrying' | 'skipped' | 'settled';
  attempt: number;
  from_queued_fire: number;
  manual: number;
  claimed_at_ms: number | null;
  dispatched_at_ms: number | null;
  settled_at_ms: number | null;
  retry_after_ms: number | null;
  run_status: string | null;
  error: string | null;
}
