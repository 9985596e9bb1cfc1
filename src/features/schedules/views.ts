// ScheduleView (api-core §6.3) and its execution records, built from rows; the tools see a trimmed form.
import { embeddedPayloadOf } from '../../engine/schedule-dispatch.ts';
import type { WireView } from '../../engine/views.ts';
import type { ExecutionRow, ScheduleRow } from '../../store/repos/schedules.ts';

/** Recent executions a tool sees (the HTTP view has the whole bounded history). */
export const TOOL_EXECUTIONS = 5;

export function trimForTool(view: Record<string, unknown>): Record<string, unknown> {
  const { request: _r, ...rest } = view;
  const recent = (view.recent_executions as unknown[]) ?? [];
  return { ...rest, recent_executions: recent.slice(-TOOL_EXECUTIONS) };
}

function executionView(e: ExecutionRow): Record<string, unknown> {
  const out: Record<string, unknown> = {
    fire_at_ms: e.fire_at_ms,
    status: e.status,
    attempt: e.attempt,
    from_queued_fire: e.from_queued_fire === 1,
  };
  if (e.run_id !== null) out.run_id = e.run_id;
  if (e.manual === 1) out.manual = true;
  for (const k of [
    'claimed_at_ms',
    'dispatched_at_ms',
    'settled_at_ms',
    'retry_after_ms',
    'run_status',
    'error',
  ] as const)
    if (e[k] !== null) out[k] = e[k];
  return out;
}

/** `request`; an embedded payload shows under its key (`observation_materialization`, `flow_start`), its request too. */
function payloadView(stored: Record<string, unknown>): Record<string, unknown> {
  const e = embeddedPayloadOf(stored);
  return e ? { request: e.body.request ?? {}, [e.key]: e.body } : { request: stored };
}

export function scheduleView(r: ScheduleRow, executions: ExecutionRow[]): WireView {
  const view: Record<string, unknown> = {
    schedule_id: r.schedule_id,
    name: r.name,
    target_session_id: r.target_session_id,
  };
  for (const k of ['target_agent_id', 'owner_session_id', 'owner_agent_id', 'created_by_run_id'] as const)
    if (r[k] !== null) view[k] = r[k];
  return {
    ...view,
    status: r.status,
    cadence: JSON.parse(r.cadence),
    overlap_policy: r.overlap_policy,
    misfire_policy: JSON.parse(r.misfire_policy),
    max_executions: r.max_executions,
    next_fire_at_ms: r.next_fire_at_ms,
    queued_fire_at_ms: r.queued_fire_at_ms,
    in_flight_fire_at_ms: r.in_flight_fire_at_ms,
    in_flight_run_id: r.in_flight_run_id,
    last_fire_at_ms: r.last_fire_at_ms,
    last_dispatched_run_id: r.last_dispatched_run_id,
    last_error: r.last_error,
    last_scheduler_error: r.last_scheduler_error,
    scheduler_retry_after_ms: r.scheduler_retry_after_ms,
    scheduler_retry_attempt: r.scheduler_retry_attempt,
    execution_count: r.execution_count,
    consecutive_failures: r.consecutive_failures,
    paused_remaining_ms: r.paused_remaining_ms,
    recent_executions: executions.map(executionView),
    ...payloadView(JSON.parse(r.request)),
    created_at_ms: r.created_at_ms,
    updated_at_ms: r.updated_at_ms,
  };
}
