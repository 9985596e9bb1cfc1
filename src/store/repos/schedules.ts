// Schedule rows and their execution history: the only SQL about schedules.
import type { Executor, ScheduleExecutionsTable, SchedulesTable } from '../schema.ts';
import { countsOf, readCounters } from './counters.ts';

export type ScheduleRow = SchedulesTable;
export type ScheduleStatus = ScheduleRow['status'];
export type ExecutionRow = Omit<ScheduleExecutionsTable, 'execution_id'> & { execution_id: number };
export type NewExecution = Omit<ScheduleExecutionsTable, 'execution_id'>;

export const SCHEDULE_STATUSES = ['active', 'paused', 'completed', 'canceled'] as const;
/** Executions whose run (or retry) is still pending: never pruned, they are settled later. */
const LIVE_EXECUTION = ['dispatched', 'retrying'] as const;

const num = (v: number | null): number | null => (v === null ? null : Number(v));

const normalize = (r: ScheduleRow): ScheduleRow => ({
  ...r,
  max_executions: num(r.max_executions),
  created_at_ms: Number(r.created_at_ms),
  updated_at_ms: Number(r.updated_at_ms),
  next_fire_at_ms: num(r.next_fire_at_ms),
  paused_remaining_ms: num(r.paused_remaining_ms),
  queued_fire_at_ms: num(r.queued_fire_at_ms),
  in_flight_fire_at_ms: num(r.in_flight_fire_at_ms),
  last_fire_at_ms: num(r.last_fire_at_ms),
  scheduler_retry_after_ms: num(r.scheduler_retry_after_ms),
  scheduler_retry_attempt: Number(r.scheduler_retry_attempt),
  execution_count: Number(r.execution_count),
  consecutive_failures: Number(r.consecutive_failures),
});

const normalizeExecution = (r: ExecutionRow): ExecutionRow => ({
  ...r,
  execution_id: Number(r.execution_id),
  fire_at_ms: Number(r.fire_at_ms),
  attempt: Number(r.attempt),
  from_queued_fire: Number(r.from_queued_fire),
  manual: Number(r.manual),
  claimed_at_ms: num(r.claimed_at_ms),
  dispatched_at_ms: num(r.dispatched_at_ms),
  settled_at_ms: num(r.settled_at_ms),
  retry_after_ms: num(r.retry_after_ms),
});

export async function insertSchedule(db: Executor, row: ScheduleRow): Promise<void> {
  await db.insertInto('schedules').values(row).execute();
}

export async function getSchedule(db: Executor, id: string): Promise<ScheduleRow | undefined> {
  const r = await db.selectFrom('schedules').selectAll().where('schedule_id', '=', id).executeTakeFirst();
  return r && normalize(r);
}

export async function findScheduleByCreationKey(db: Executor, key: string): Promise<ScheduleRow | undefined> {
  const r = await db.selectFrom('schedules').selectAll().where('creation_key', '=', key).executeTakeFirst();
  return r && normalize(r);
}

export async function updateSchedule(db: Executor, id: string, patch: Partial<ScheduleRow>): Promise<void> {
  await db.updateTable('schedules').set(patch).where('schedule_id', '=', id).execute();
}

/**
 * The claim: moves an active schedule off occurrence `expected` only if nobody else did.
 * Returns false when the schedule changed under us (another claim, a pause, a cancel).
 */
export async function claimOccurrence(
  db: Executor,
  id: string,
  expected: number,
  patch: Partial<ScheduleRow>,
): Promise<boolean> {
  const r = await db
    .updateTable('schedules')
    .set(patch)
    .where('schedule_id', '=', id)
    .where('status', '=', 'active')
    .where('next_fire_at_ms', '=', expected)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function listSchedules(
  db: Executor,
  q: { session_id?: string; after_id?: string; limit?: number },
): Promise<{ rows: ScheduleRow[]; total: number }> {
  let base = db.selectFrom('schedules');
  if (q.session_id !== undefined) base = base.where('target_session_id', '=', q.session_id);
  const totalRow = await base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
  let sel = base.selectAll().orderBy('schedule_id', 'asc');
  if (q.after_id !== undefined) sel = sel.where('schedule_id', '>', q.after_id);
  if (q.limit !== undefined) sel = sel.limit(q.limit);
  const rows = await sel.execute();
  return { rows: rows.map(normalize), total: Number(totalRow?.n ?? 0) };
}

/** Schedules related to a session (target or owner): what a session's tools may see. */
export async function schedulesOfSession(
  db: Executor,
  sessionId: string,
  limit: number,
): Promise<ScheduleRow[]> {
  const rows = await db
    .selectFrom('schedules')
    .selectAll()
    .where((eb) => eb.or([eb('target_session_id', '=', sessionId), eb('owner_session_id', '=', sessionId)]))
    .orderBy('schedule_id', 'asc')
    .limit(limit)
    .execute();
  return rows.map(normalize);
}

/** The fields that say when an active schedule needs a look: what the timer reads at every pass. */
export type ScheduleTiming = Pick<
  ScheduleRow,
  'schedule_id' | 'next_fire_at_ms' | 'queued_fire_at_ms' | 'in_flight_run_id' | 'scheduler_retry_after_ms'
>;

export async function activeScheduleTimings(db: Executor): Promise<ScheduleTiming[]> {
  const rows = await db
    .selectFrom('schedules')
    .select([
      'schedule_id',
      'next_fire_at_ms',
      'queued_fire_at_ms',
      'in_flight_run_id',
      'scheduler_retry_after_ms',
    ])
    .where('status', '=', 'active')
    .execute();
  return rows.map((r) => ({
    ...r,
    next_fire_at_ms: num(r.next_fire_at_ms),
    queued_fire_at_ms: num(r.queued_fire_at_ms),
    scheduler_retry_after_ms: num(r.scheduler_retry_after_ms),
  }));
}

/** Schedules by status, from the counters (migration 0011). */
export async function countSchedulesByStatus(db: Executor): Promise<Record<string, number>> {
  return countsOf(await readCounters(db, 'schedules:status:'), SCHEDULE_STATUSES);
}

export async function countActiveOwned(db: Executor, ownerSessionId: string): Promise<number> {
  const r = await db
    .selectFrom('schedules')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('owner_session_id', '=', ownerSessionId)
    .where('status', '=', 'active')
    .executeTakeFirst();
  return Number(r?.n ?? 0);
}

// ------------------------------------------------------------------ executions

export async function insertExecution(db: Executor, row: NewExecution): Promise<number> {
  // RETURNING, not insertId: the PostgreSQL driver reports no insert id.
  const r = await db
    .insertInto('schedule_executions')
    .values(row)
    .returning('execution_id')
    .executeTakeFirstOrThrow();
  return Number(r.execution_id);
}

export async function updateExecution(db: Executor, id: number, patch: Partial<NewExecution>): Promise<void> {
  await db.updateTable('schedule_executions').set(patch).where('execution_id', '=', id).execute();
}

export async function executionOfRun(db: Executor, runId: string): Promise<ExecutionRow | undefined> {
  const r = await db
    .selectFrom('schedule_executions')
    .selectAll()
    .where('run_id', '=', runId)
    .executeTakeFirst();
  return r && normalizeExecution(r as ExecutionRow);
}

/** The open retry record of one occurrence, if its dispatch failed before. */
export async function retryingExecution(
  db: Executor,
  scheduleId: string,
  fireAtMs: number,
): Promise<ExecutionRow | undefined> {
  const r = await db
    .selectFrom('schedule_executions')
    .selectAll()
    .where('schedule_id', '=', scheduleId)
    .where('fire_at_ms', '=', fireAtMs)
    .where('status', '=', 'retrying')
    .orderBy('execution_id', 'desc')
    .executeTakeFirst();
  return r && normalizeExecution(r as ExecutionRow);
}

/** Closes open retry records (the schedule was paused or canceled before the retry ran). */
export async function closeRetrying(db: Executor, scheduleId: string, why: string): Promise<void> {
  await db
    .updateTable('schedule_executions')
    .set({ status: 'skipped', error: why, retry_after_ms: null })
    .where('schedule_id', '=', scheduleId)
    .where('status', '=', 'retrying')
    .execute();
}

/** The newest dispatched execution whose run has not settled (parallel fires may leave several). */
export async function latestUnsettledExecution(
  db: Executor,
  scheduleId: string,
): Promise<ExecutionRow | undefined> {
  const r = await db
    .selectFrom('schedule_executions')
    .selectAll()
    .where('schedule_id', '=', scheduleId)
    .where('status', '=', 'dispatched')
    .orderBy('execution_id', 'desc')
    .executeTakeFirst();
  return r && normalizeExecution(r as ExecutionRow);
}

/** The newest `limit` executions of each schedule, oldest first. */
export async function recentExecutions(
  db: Executor,
  scheduleIds: string[],
  limit: number,
): Promise<Map<string, ExecutionRow[]>> {
  const out = new Map<string, ExecutionRow[]>();
  for (const id of scheduleIds) {
    const rows = await db
      .selectFrom('schedule_executions')
      .selectAll()
      .where('schedule_id', '=', id)
      .orderBy('execution_id', 'desc')
      .limit(limit)
      .execute();
    out.set(id, rows.map((r) => normalizeExecution(r as ExecutionRow)).reverse());
  }
  return out;
}

/** Keeps the newest `keep` records of a schedule (plus any still-live ones). */
export async function pruneExecutions(db: Executor, scheduleId: string, keep: number): Promise<void> {
  const cutoff = await db
    .selectFrom('schedule_executions')
    .select('execution_id')
    .where('schedule_id', '=', scheduleId)
    .orderBy('execution_id', 'desc')
    .offset(keep - 1)
    .limit(1)
    .executeTakeFirst();
  if (!cutoff) return;
  await db
    .deleteFrom('schedule_executions')
    .where('schedule_id', '=', scheduleId)
    .where('execution_id', '<', Number(cutoff.execution_id))
    .where('status', 'not in', [...LIVE_EXECUTION])
    .execute();
}

/** Counters for GET /v1/status: schedules with a run in flight, a queued fire, a retry pending. */
export async function scheduleActivityCounts(
  db: Executor,
): Promise<{ in_flight: number; queued_fires: number; retrying: number; next_fire_at_ms: number | null }> {
  // The counts are counters (migration 0011); the next fire is one seek in schedules_status_next.
  const c = await readCounters(db, 'schedules:');
  const next = await db
    .selectFrom('schedules')
    .select((eb) => eb.fn.min('next_fire_at_ms').as('next'))
    .where('status', '=', 'active')
    .executeTakeFirst();
  return {
    in_flight: c.get('in_flight') ?? 0,
    queued_fires: c.get('queued_fires') ?? 0,
    retrying: c.get('retrying') ?? 0,
    next_fire_at_ms: next?.next === null || next?.next === undefined ? null : Number(next.next),
  };
}
