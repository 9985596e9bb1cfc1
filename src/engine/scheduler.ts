// The schedule timer: one timer armed for the earliest moment any active schedule needs a look.
// A fire claims its occurrence with a compare-and-set on `next_fire_at_ms` in the same transaction
// that creates the run (schedule-dispatch.ts) and records the execution, so a crash (or a second
// process) either fired it or not, never twice. Runs settle back into their schedule through
// engine.onRunTerminal, in the transaction that ends the run.
// Replicas on one PostgreSQL database each run this timer: every dispatch re-reads the schedule
// inside its write transaction (writes are serialized across replicas), so of two replicas firing
// the same occurrence together one claims it and the other finds it moved and does nothing. A
// replica also looks at least every SHARED_POLL_MS, since another replica may create, resume or
// fire a schedule without this one hearing of it.
import { DaemonError } from '../errors/daemon-error.ts';
import { getRun, isTerminal, type RunRow } from '../store/repos/runs.ts';
import {
  activeScheduleTimings,
  claimOccurrence,
  countSchedulesByStatus,
  executionOfRun,
  getSchedule,
  insertExecution,
  latestUnsettledExecution,
  pruneExecutions,
  retryingExecution,
  type ScheduleRow,
  scheduleActivityCounts,
  updateExecution,
  updateSchedule,
} from '../store/repos/schedules.ts';
import type { WriteTx } from '../store/store.ts';
import type { SchedulerPort } from './ports.ts';
import { dispatchFire, SCHEDULED_KINDS } from './schedule-dispatch.ts';
import {
  MIN_INTERVAL_SECONDS,
  MISFIRE_GRACE_MS,
  planDue,
  RECENT_EXECUTION_LIMIT,
  retryDelayMs,
} from './schedule-plan.ts';
import {
  blankExecution,
  cadenceOf,
  dispatchErrorText,
  dueAt,
  misfireOf,
  retryable,
  retryDue,
} from './schedule-rows.ts';

export interface SchedulerPolicy {
  retry_base_delay_ms: number;
  retry_max_delay_ms: number;
  retry_jitter_ms: number;
  /** 0 = retry without limit. */
  retry_max_attempts: number;
}

export const DEFAULT_SCHEDULER_POLICY: SchedulerPolicy = {
  retry_base_delay_ms: 500,
  retry_max_delay_ms: 30_000,
  retry_jitter_ms: 250,
  retry_max_attempts: 0,
};

export interface SchedulerOptions {
  policy?: SchedulerPolicy;
  /** The scheduling clock (tests drive it); timestamps of fires and history come from it. */
  now?: () => number;
  /** False: no timer; the caller drives `tick()` (tests with a controlled clock). */
  timer?: boolean;
  log?: { warn(o: object, m?: string): void; error(o: object, m?: string): void };
}

/** Longest sleep between two looks: the wall clock may jump (suspend, NTP) under a long timer. */
const MAX_SLEEP_MS = 60_000;
/** Longest sleep on a shared database, where other replicas change schedules unseen. */
export const SHARED_POLL_MS = 1000;

type Target = 'queued' | 'occurrence';

export class Scheduler {
  readonly policy: SchedulerPolicy;
  readonly now: () => number;
  private readonly engine: SchedulerPort;
  private readonly useTimer: boolean;
  private readonly maxSleepMs: number;
  private readonly log: SchedulerOptions['log'];
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;

  constructor(engine: SchedulerPort, opts: SchedulerOptions = {}) {
    this.engine = engine;
    this.policy = opts.policy ?? DEFAULT_SCHEDULER_POLICY;
    this.now = opts.now ?? Date.now;
    this.useTimer = opts.timer ?? true;
    this.maxSleepMs = engine.store.dialect === 'postgres' ? SHARED_POLL_MS : MAX_SLEEP_MS;
    this.log = opts.log;
    // Registered at construction, before restart recovery can end a scheduled run.
    engine.onRunTerminal((tx, run) => this.settle(tx, run));
  }

  /** Starts the timer (after restart recovery): misfires are handled by the first look. */
  start(): void {
    this.stopped = false;
    this.wake();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Looks again soon (a schedule changed); coalesces with a look already under way. */
  wake(): void {
    if (this.stopped || !this.useTimer) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.runTick(), 0);
    this.timer.unref();
  }

  private runTick(): void {
    this.timer = null;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.tick()
      .catch((err) => this.log?.error({ err: String((err as Error).stack ?? err) }, 'scheduler pass failed'))
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.runTick();
        } else
          this.arm().catch((err) => {
            // A store closed by shutdown is not worth a log line.
            if (!this.stopped)
              this.log?.error(
                { err: String((err as Error).stack ?? err) },
                'scheduler could not arm its timer',
              );
          });
      });
  }

  private async arm(): Promise<void> {
    if (this.stopped || !this.useTimer || this.engine.isDraining) return;
    const wake = await this.nextWakeAt();
    if (this.stopped || this.timer || this.running) return;
    // With nothing to fire a lone daemon sleeps until a change wakes it; a replica keeps looking.
    if (wake === null && this.maxSleepMs === MAX_SLEEP_MS) return;
    const delay = Math.min(this.maxSleepMs, Math.max(0, (wake ?? Number.POSITIVE_INFINITY) - this.now()));
    this.timer = setTimeout(() => this.runTick(), delay);
    this.timer.unref();
  }

  /** When the earliest active schedule needs a look (null: none does). */
  async nextWakeAt(): Promise<number | null> {
    let min: number | null = null;
    for (const s of await activeScheduleTimings(this.engine.store.db)) {
      const at = dueAt(s);
      if (at !== null && (min === null || at < min)) min = at;
    }
    return min;
  }

  /** One pass: every schedule due at `now` fires (or retries, or records its skips). */
  async tick(): Promise<void> {
    if (this.engine.isDraining) return;
    const now = this.now();
    for (const s of await activeScheduleTimings(this.engine.store.db)) {
      if (this.engine.isDraining) return;
      if (s.queued_fire_at_ms !== null && s.in_flight_run_id === null && retryDue(s, now))
        await this.attempt(s.schedule_id, 'queued', now);
      if (s.next_fire_at_ms !== null && s.next_fire_at_ms <= now && retryDue(s, now))
        await this.attempt(s.schedule_id, 'occurrence', now);
    }
  }

  /** Runs one dispatch transaction; a failure rolls it back whole and is recorded as a retry. */
  private async attempt(id: string, target: Target, now: number): Promise<void> {
    const seen: { fire: number | null } = { fire: null };
    try {
      await this.engine.store.write(async (tx) => {
        const s = await getSchedule(tx.db, id);
        if (s?.status !== 'active') return;
        seen.fire = target === 'queued' ? s.queued_fire_at_ms : s.next_fire_at_ms;
        await this.process(tx, s, target, now, null);
      });
    } catch (err) {
      const fire = seen.fire;
      if (this.engine.isDraining || fire === null) return;
      const message = dispatchErrorText(err);
      if (!(err instanceof DaemonError))
        this.log?.warn({ schedule_id: id, err: message }, 'schedule dispatch failed');
      await this.engine.store.write(async (tx) => {
        const s = await getSchedule(tx.db, id);
        if (s?.status !== 'active') return;
        const attempt = s.scheduler_retry_attempt + 1;
        const max = this.policy.retry_max_attempts;
        if (!retryable(err) || (max > 0 && attempt > max)) {
          const why = retryable(err) ? `dispatch failed ${attempt} times; gave up: ${message}` : message;
          await this.process(tx, s, target, now, why);
        } else await this.recordRetry(tx, s, fire, target, attempt, now, message);
      });
    }
  }

  private async recordRetry(
    tx: WriteTx,
    s: ScheduleRow,
    fire: number,
    target: Target,
    attempt: number,
    now: number,
    message: string,
  ): Promise<void> {
    const after = now + retryDelayMs(this.policy, attempt, `${s.schedule_id}:${fire}:${attempt}`);
    s.scheduler_retry_attempt = attempt;
    s.scheduler_retry_after_ms = after;
    s.last_scheduler_error = message;
    s.updated_at_ms = now;
    const open = await retryingExecution(tx.db, s.schedule_id, fire);
    const fields = { attempt, retry_after_ms: after, error: message };
    if (open) await updateExecution(tx.db, open.execution_id, fields);
    else
      await insertExecution(tx.db, {
        ...blankExecution(s.schedule_id, fire, now),
        ...fields,
        status: 'retrying',
        from_queued_fire: target === 'queued' ? 1 : 0,
      });
    await this.save(tx, s);
  }

  /**
   * Applies what is due for `target`: the queued fire, or the occurrence at next_fire_at_ms (and
   * any later ones also due, per the misfire policy). With `giveUp`, every fire it would dispatch
   * is recorded as skipped with that error instead.
   */
  private async process(tx: WriteTx, s: ScheduleRow, target: Target, now: number, giveUp: string | null) {
    if (target === 'queued') {
      const fire = s.queued_fire_at_ms;
      if (fire === null || (await this.liveInFlight(tx, s))) return;
      s.queued_fire_at_ms = null;
      await this.fire(tx, s, fire, now, { overlap: false, fromQueued: true, giveUp });
    } else {
      const claimed = s.next_fire_at_ms;
      if (claimed === null || claimed > now) return;
      const plan = planDue(
        cadenceOf(s),
        misfireOf(s),
        claimed,
        now,
        s.scheduler_retry_attempt > 0,
        s.created_at_ms,
      );
      if (
        !(await claimOccurrence(tx.db, s.schedule_id, claimed, {
          next_fire_at_ms: plan.next,
          updated_at_ms: now,
        }))
      )
        return;
      s.next_fire_at_ms = plan.next;
      for (const t of plan.skipped) {
        const more = plan.skippedTotal > plan.skipped.length ? ` (${plan.skippedTotal} skipped in all)` : '';
        await this.skip(tx, s, t, now, `${plan.skipReason}${more}`);
      }
      // A catch-up batch replays a backlog on purpose: its runs queue in the session FIFO.
      const overlap = plan.fires.length === 1;
      for (const t of plan.fires) await this.fire(tx, s, t, now, { overlap, fromQueued: false, giveUp });
    }
    if (giveUp === null) {
      s.scheduler_retry_attempt = 0;
      s.scheduler_retry_after_ms = null;
    }
    if (s.status === 'active' && s.next_fire_at_ms === null && s.queued_fire_at_ms === null)
      s.status = 'completed';
    s.updated_at_ms = now;
    await this.save(tx, s);
    await pruneExecutions(tx.db, s.schedule_id, RECENT_EXECUTION_LIMIT);
  }

  /** One fire: max_executions, then the overlap policy, then the run (or the given-up record). */
  private async fire(
    tx: WriteTx,
    s: ScheduleRow,
    at: number,
    now: number,
    o: { overlap: boolean; fromQueued: boolean; giveUp: string | null; manual?: boolean },
  ): Promise<void> {
    const open = o.manual ? undefined : await retryingExecution(tx.db, s.schedule_id, at);
    if (s.max_executions !== null && s.execution_count >= s.max_executions)
      return this.skip(tx, s, at, now, `max_executions (${s.max_executions}) reached`, open?.execution_id);
    if (o.giveUp !== null) {
      s.consecutive_failures += 1;
      s.last_scheduler_error = o.giveUp;
      s.scheduler_retry_attempt = 0;
      s.scheduler_retry_after_ms = null;
      return this.skip(tx, s, at, now, o.giveUp, open?.execution_id);
    }
    if (o.overlap && s.overlap_policy !== 'parallel' && (await this.liveInFlight(tx, s))) {
      if (s.overlap_policy === 'queue_one' && s.queued_fire_at_ms === null) {
        s.queued_fire_at_ms = at;
        return;
      }
      const why =
        s.overlap_policy === 'skip'
          ? `the previous fire's run ${s.in_flight_run_id} is still live (overlap_policy skip)`
          : `a fire is already queued behind run ${s.in_flight_run_id} (overlap_policy queue_one)`;
      return this.skip(tx, s, at, now, why);
    }
    const fired = await dispatchFire(this.engine, tx, s, at, now);
    if ('skip' in fired) return this.skip(tx, s, at, now, fired.skip, open?.execution_id);
    const { run } = fired;
    const fields = {
      run_id: run.run_id,
      status: 'dispatched' as const,
      attempt: s.scheduler_retry_attempt,
      dispatched_at_ms: now,
      retry_after_ms: null,
      error: null,
    };
    if (open) await updateExecution(tx.db, open.execution_id, fields);
    else
      await insertExecution(tx.db, {
        ...blankExecution(s.schedule_id, at, now),
        ...fields,
        from_queued_fire: o.fromQueued ? 1 : 0,
        manual: o.manual ? 1 : 0,
      });
    s.execution_count += 1;
    s.last_fire_at_ms = at;
    s.last_dispatched_run_id = run.run_id;
    s.in_flight_fire_at_ms = at;
    s.in_flight_run_id = run.run_id;
    if (s.max_executions !== null && s.execution_count >= s.max_executions && s.status === 'active') {
      s.status = 'completed';
      s.next_fire_at_ms = null;
      await this.dropQueued(tx, s, now, `max_executions (${s.max_executions}) reached`);
    }
  }

  private async skip(tx: WriteTx, s: ScheduleRow, at: number, now: number, why: string, openId?: number) {
    if (openId !== undefined)
      await updateExecution(tx.db, openId, { status: 'skipped', error: why, retry_after_ms: null });
    else
      await insertExecution(tx.db, {
        ...blankExecution(s.schedule_id, at, now),
        status: 'skipped',
        error: why,
      });
  }

  /** Whether a previous fire's run is still live; a stale marker (run gone or ended) is cleared. */
  private async liveInFlight(tx: WriteTx, s: ScheduleRow): Promise<boolean> {
    if (s.in_flight_run_id === null) return false;
    const run = await getRun(tx.db, s.in_flight_run_id);
    if (run && !isTerminal(run.status)) return true;
    s.in_flight_run_id = null;
    s.in_flight_fire_at_ms = null;
    return false;
  }

  /** Drops a pending queue_one fire (pause, cancel, completion) and records why. */
  async dropQueued(tx: WriteTx, s: ScheduleRow, now: number, why: string): Promise<void> {
    if (s.queued_fire_at_ms === null) return;
    await this.skip(tx, s, s.queued_fire_at_ms, now, why);
    s.queued_fire_at_ms = null;
  }

  /** Trigger-now: one extra fire at `now` under the overlap policy (a `once` fires its occurrence). */
  async triggerInTx(tx: WriteTx, s: ScheduleRow, now: number): Promise<void> {
    if (s.next_fire_at_ms !== null && cadenceOf(s).type === 'once') s.next_fire_at_ms = null;
    await this.fire(tx, s, now, now, { overlap: true, fromQueued: false, giveUp: null, manual: true });
    if (s.status === 'active' && s.next_fire_at_ms === null && s.queued_fire_at_ms === null)
      s.status = 'completed';
    s.updated_at_ms = now;
    await this.save(tx, s);
    await pruneExecutions(tx.db, s.schedule_id, RECENT_EXECUTION_LIMIT);
    tx.afterCommit(() => this.wake());
  }

  /** The terminal-run hook: settles the execution and lets a queued fire go, in the same transaction. */
  private async settle(tx: WriteTx, run: RunRow): Promise<void> {
    if (!SCHEDULED_KINDS.has(run.kind)) return;
    const ex = await executionOfRun(tx.db, run.run_id);
    if (!ex || ex.status === 'settled') return;
    const now = this.now();
    await updateExecution(tx.db, ex.execution_id, {
      status: 'settled',
      settled_at_ms: now,
      run_status: run.status,
      error: run.status === 'completed' ? null : (run.error ?? `run ${run.status}`),
    });
    const s = await getSchedule(tx.db, ex.schedule_id);
    if (!s) return;
    if (run.status === 'completed') s.consecutive_failures = 0;
    else {
      s.consecutive_failures += 1;
      s.last_error = run.error ?? `run ${run.run_id} ${run.status}`;
    }
    if (s.in_flight_run_id === run.run_id) {
      const other = await latestUnsettledExecution(tx.db, s.schedule_id);
      s.in_flight_run_id = other?.run_id ?? null;
      s.in_flight_fire_at_ms = other?.fire_at_ms ?? null;
    }
    s.updated_at_ms = now;
    if (
      s.status === 'active' &&
      s.in_flight_run_id === null &&
      s.queued_fire_at_ms !== null &&
      !this.engine.isDraining
    ) {
      const fire = s.queued_fire_at_ms;
      try {
        // In a savepoint: a failed dispatch leaves nothing behind and the retry below can still
        // write (on PostgreSQL a failed statement would abort the whole transaction otherwise).
        await tx.savepoint(() => this.process(tx, s, 'queued', now, null));
        tx.afterCommit(() => this.wake());
        return;
      } catch (err) {
        // Nothing was written by the failed dispatch; the timer retries the queued fire.
        s.queued_fire_at_ms = fire;
        const message = dispatchErrorText(err);
        if (retryable(err))
          await this.recordRetry(tx, s, fire, 'queued', s.scheduler_retry_attempt + 1, now, message);
        else await this.process(tx, s, 'queued', now, message);
      }
    } else await this.save(tx, s);
    tx.afterCommit(() => this.wake());
  }

  async save(tx: WriteTx, s: ScheduleRow): Promise<void> {
    const { schedule_id: _id, ...rest } = s;
    await updateSchedule(tx.db, s.schedule_id, rest);
    // A schedule that will never fire again no longer holds its files (its runs hold their own).
    if ((s.status === 'completed' || s.status === 'canceled') && s.request?.includes('"asset_reference"'))
      await this.engine.inputAssets?.release(tx, { domain: 'schedules', owner_id: s.schedule_id });
  }

  /** `scheduler_policy` of GET /v1/runtime. */
  policyView(): Record<string, unknown> {
    return {
      enabled: !this.stopped,
      ...this.policy,
      min_interval_seconds: MIN_INTERVAL_SECONDS,
      misfire_grace_ms: MISFIRE_GRACE_MS,
      recent_execution_limit: RECENT_EXECUTION_LIMIT,
    };
  }

  /** The `schedules` section of GET /v1/status. */
  async statusView(): Promise<Record<string, unknown>> {
    const db = this.engine.store.db;
    const counts = await countSchedulesByStatus(db);
    const activity = await scheduleActivityCounts(db);
    const next = activity.next_fire_at_ms;
    return {
      total: Object.values(counts).reduce((a, b) => a + b, 0),
      ...counts,
      in_flight: activity.in_flight,
      queued_fires: activity.queued_fires,
      retrying: activity.retrying,
      next_fire_at_ms: next,
      scheduler_lag_ms: next === null ? 0 : Math.max(0, this.now() - next),
    };
  }
}
