// Wire types of the schedules API (api-core §6.3). The service validates the values (floors,
// timezones, cron syntax) so every rejection is a schedules-domain problem with its own code.
import { z } from 'zod';
import { SubmitInputRequest } from '../runs/schema.ts';

export const Cadence = z.discriminatedUnion('type', [
  z.object({ type: z.literal('once'), fire_at_ms: z.number() }).strict(),
  z.object({ type: z.literal('interval'), every_seconds: z.number() }).strict(),
  z.object({ type: z.literal('cron'), expression: z.string(), timezone: z.string().nullish() }).strict(),
]);

export const OverlapPolicy = z.enum(['skip', 'queue_one', 'parallel']);

/** The tagged form is the wire shape; a bare string is accepted on input (one doc example uses it). */
export const MisfirePolicy = z.union([
  z.discriminatedUnion('type', [
    z.object({ type: z.literal('coalesce_once') }).strict(),
    z.object({ type: z.literal('skip_missed') }).strict(),
    /** Extension: fire each missed occurrence, at most `max` (1..100). */
    z.object({ type: z.literal('catch_up'), max: z.number() }).strict(),
  ]),
  z.enum(['coalesce_once', 'skip_missed']),
]);

export const ScheduleCreateRequest = z
  .object({
    name: z.string(),
    target_session_id: z.string(),
    cadence: Cadence,
    request: SubmitInputRequest.nullish(),
    observation_materialization: z.record(z.string(), z.unknown()).nullish(),
    /** Starts a Flow at each fire (decision 435): `{ playbook_ref, request, metadata? }`. */
    flow_start: z.record(z.string(), z.unknown()).nullish(),
    target_agent_id: z.string().nullish(),
    owner_session_id: z.string().nullish(),
    owner_agent_id: z.string().nullish(),
    created_by_run_id: z.string().nullish(),
    max_executions: z.number().nullish(),
    overlap_policy: OverlapPolicy.nullish(),
    misfire_policy: MisfirePolicy.nullish(),
  })
  .strict()
  .meta({ id: 'ScheduleCreateRequest' });

export const ScheduleParams = z.object({ schedule_id: z.string().min(1) });

export const ListSchedulesQuery = z.object({
  session_id: z.string().optional(),
  page: z.string().optional(),
  cursor: z.string().optional(),
  limit: z.string().optional(),
});

export const ScheduleExecutionView = z
  .object({
    fire_at_ms: z.number(),
    run_id: z.string().optional(),
    status: z.enum(['dispatched', 'retrying', 'skipped', 'settled']),
    attempt: z.number(),
    from_queued_fire: z.boolean(),
    claimed_at_ms: z.number().optional(),
    dispatched_at_ms: z.number().optional(),
    settled_at_ms: z.number().optional(),
    retry_after_ms: z.number().optional(),
    error: z.string().optional(),
  })
  .passthrough();

export const ScheduleView = z
  .object({
    schedule_id: z.string(),
    name: z.string(),
    target_session_id: z.string(),
    status: z.enum(['active', 'paused', 'completed', 'canceled']),
    cadence: Cadence,
    overlap_policy: OverlapPolicy,
    misfire_policy: z.record(z.string(), z.unknown()),
    max_executions: z.number().nullable(),
    next_fire_at_ms: z.number().nullable(),
    queued_fire_at_ms: z.number().nullable(),
    in_flight_fire_at_ms: z.number().nullable(),
    in_flight_run_id: z.string().nullable(),
    last_fire_at_ms: z.number().nullable(),
    last_dispatched_run_id: z.string().nullable(),
    last_error: z.string().nullable(),
    last_scheduler_error: z.string().nullable(),
    scheduler_retry_after_ms: z.number().nullable(),
    scheduler_retry_attempt: z.number(),
    execution_count: z.number(),
    consecutive_failures: z.number(),
    recent_executions: z.array(ScheduleExecutionView),
    request: z.record(z.string(), z.unknown()),
    /** Schedules that materialize observations: the embedded body (its `request` is also `request`). */
    observation_materialization: z.record(z.string(), z.unknown()).optional(),
    /** Schedules that start a Flow: the stored payload (its `request` is also `request`). */
    flow_start: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough()
  .meta({ id: 'ScheduleView' });

export const ScheduleEnvelope = z.object({ schedule: ScheduleView });

export type ScheduleCreateRequest = z.infer<typeof ScheduleCreateRequest>;
