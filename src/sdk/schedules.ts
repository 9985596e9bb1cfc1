// Schedules API client calls (api-core §6.1, §6.3), as functions over DaemonClient.request.
import type { DaemonClient } from './client.ts';
import type { JsonObject, ListResult, PageQuery, SubmitInputRequest } from './types.ts';

export type ScheduleCadence =
  | { type: 'once'; fire_at_ms: number }
  | { type: 'interval'; every_seconds: number }
  | { type: 'cron'; expression: string; timezone?: string };

export type OverlapPolicy = 'skip' | 'queue_one' | 'parallel';
/** `catch_up` is this daemon's extension. */
export type MisfirePolicy =
  | { type: 'coalesce_once' }
  | { type: 'skip_missed' }
  | { type: 'catch_up'; max: number };
export type ScheduleStatus = 'active' | 'paused' | 'completed' | 'canceled';

export interface ScheduleCreateRequest {
  name: string;
  target_session_id: string;
  cadence: ScheduleCadence;
  request?: SubmitInputRequest;
  observation_materialization?: JsonObject;
  /** Starts a Flow at each fire: `{ playbook_ref, request, metadata? }` (decision 435). */
  flow_start?: JsonObject;
  target_agent_id?: string;
  owner_session_id?: string;
  owner_agent_id?: string;
  created_by_run_id?: string;
  max_executions?: number;
  overlap_policy?: OverlapPolicy;
  misfire_policy?: MisfirePolicy;
}

export interface ScheduleExecution {
  fire_at_ms: number;
  run_id?: string;
  status: 'dispatched' | 'retrying' | 'skipped' | 'settled';
  attempt: number;
  from_queued_fire: boolean;
  manual?: boolean;
  claimed_at_ms?: number;
  dispatched_at_ms?: number;
  settled_at_ms?: number;
  retry_after_ms?: number;
  run_status?: string;
  error?: string;
}

export interface ScheduleView {
  schedule_id: string;
  name: string;
  target_session_id: string;
  status: ScheduleStatus;
  cadence: ScheduleCadence;
  overlap_policy: OverlapPolicy;
  misfire_policy: MisfirePolicy;
  max_executions: number | null;
  next_fire_at_ms: number | null;
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
  recent_executions: ScheduleExecution[];
  /** The stored request (of an embedded materialization: its request). */
  request: JsonObject;
  /** Present on schedules that materialize observations at each fire. */
  observation_materialization?: JsonObject;
  flow_start?: JsonObject;
  [key: string]: unknown;
}

export interface ScheduleListQuery extends PageQuery {
  session_id?: string;
}

const enc = encodeURIComponent;

export async function listSchedules(
  client: DaemonClient,
  query: ScheduleListQuery = {},
): Promise<ListResult<ScheduleView>> {
  return (await client.request('GET', '/v1/schedules', { query: { ...query } })) as ListResult<ScheduleView>;
}

export async function getSchedule(client: DaemonClient, scheduleId: string): Promise<ScheduleView> {
  return (await client.request('GET', `/v1/schedules/${enc(scheduleId)}`)) as ScheduleView;
}

export async function createSchedule(
  client: DaemonClient,
  body: ScheduleCreateRequest,
): Promise<ScheduleView> {
  return (await client.request('POST', '/v1/schedules', { body })) as ScheduleView;
}

export type ScheduleAction = 'cancel' | 'pause' | 'resume' | 'trigger';

/** POST /v1/schedules/{id}/{action}; the daemon answers `{ schedule }`. */
export async function scheduleAction(
  client: DaemonClient,
  scheduleId: string,
  action: ScheduleAction,
): Promise<ScheduleView> {
  const body = (await client.request('POST', `/v1/schedules/${enc(scheduleId)}/${action}`)) as {
    schedule: ScheduleView;
  };
  return body.schedule;
}

export const cancelSchedule = (c: DaemonClient, id: string) => scheduleAction(c, id, 'cancel');
export const pauseSchedule = (c: DaemonClient, id: string) => scheduleAction(c, id, 'pause');
export const resumeSchedule = (c: DaemonClient, id: string) => scheduleAction(c, id, 'resume');
export const triggerSchedule = (c: DaemonClient, id: string) => scheduleAction(c, id, 'trigger');
