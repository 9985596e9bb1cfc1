// Small pure helpers about schedule rows, shared by the scheduler and the schedules feature.
import { DaemonError } from '../errors/daemon-error.ts';
import type { ScheduleRow, ScheduleTiming } from '../store/repos/schedules.ts';
import type { Cadence, MisfirePolicy } from './schedule-plan.ts';

export function retryDue(s: ScheduleTiming, now: number): boolean {
  return s.scheduler_retry_after_ms === null || s.scheduler_retry_after_ms <= now;
}

/** When a schedule next needs a look: its occurrence, or a queued fire left waiting, after any backoff. */
export function dueAt(s: ScheduleTiming): number | null {
  const floor = s.scheduler_retry_after_ms ?? 0;
  const candidates: number[] = [];
  if (s.next_fire_at_ms !== null) candidates.push(Math.max(s.next_fire_at_ms, floor));
  if (s.queued_fire_at_ms !== null && s.in_flight_run_id === null) candidates.push(floor);
  return candidates.length ? Math.min(...candidates) : null;
}

/** Conflicts (route not ready, session ended) and server-side trouble may pass; bad input will not. */
/** A dispatch failure as it is shown in `last_scheduler_error` and the history. */
export function dispatchErrorText(err: unknown): string {
  return err instanceof DaemonError ? `${err.domain ?? 'daemon'}/${err.code}: ${err.detail}` : String(err);
}

export function retryable(err: unknown): boolean {
  if (!(err instanceof DaemonError)) return true;
  return err.status === 409 || err.status === 429 || err.status >= 500;
}

export const cadenceOf = (s: ScheduleRow): Cadence => JSON.parse(s.cadence) as Cadence;
export const misfireOf = (s: ScheduleRow): MisfirePolicy => JSON.parse(s.misfire_policy) as MisfirePolicy;

export function blankExecution(scheduleId: string, at: number, now: number) {
  return {
    schedule_id: scheduleId,
    fire_at_ms: at,
    run_id: null,
    status: 'skipped' as const,
    attempt: 0,
    from_queued_fire: 0,
    manual: 0,
    claimed_at_ms: now,
    dispatched_at_ms: null,
    settled_at_ms: null,
    retry_after_ms: null,
    run_status: null,
    error: null,
  };
}
