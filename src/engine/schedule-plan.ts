// Cadence math and fire planning for schedules: pure functions of (cadence, policy, times), so
// they are unit-tested with explicit clocks. The scheduler (scheduler.ts) applies the plans.
import { Cron } from 'croner';

export type Cadence =
  | { type: 'once'; fire_at_ms: number }
  | { type: 'interval'; every_seconds: number }
  | { type: 'cron'; expression: string; timezone: string };
export type OverlapPolicy = 'skip' | 'queue_one' | 'parallel';
/** The spec's two policies plus our `catch_up` (fire each missed occurrence, at most `max`). */
export type MisfirePolicy =
  | { type: 'coalesce_once' }
  | { type: 'skip_missed' }
  | { type: 'catch_up'; max: number };

/** The floor of `interval` cadences and of the gap between two cron occurrences. */
export const MIN_INTERVAL_SECONDS = 5;
/** An occurrence more than this late when the scheduler gets to it counts as missed (misfire). */
export const MISFIRE_GRACE_MS = 2_000;
/** Executions kept on each schedule view. */
export const RECENT_EXECUTION_LIMIT = 50;
export const MAX_CATCH_UP = 100;
/** Occurrences walked one by one when looking at a gap; beyond, the count is a lower bound. */
const SCAN_LIMIT = 2_000;

export class CadenceError extends Error {
  readonly code: 'invalid_cadence' | 'invalid_timezone';
  constructor(code: CadenceError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

// The reference daemon reads cron the way the Rust `cron` crate does: seconds first, an optional
// year, weekdays 1-7 from Sunday, day-of-month AND day-of-week. `@` shorthands are expanded here
// because croner would expand them to five fields.
const SHORTHANDS: Record<string, string> = {
  '@yearly': '0 0 0 1 1 *',
  '@annually': '0 0 0 1 1 *',
  '@monthly': '0 0 0 1 * *',
  '@weekly': '0 0 0 * * SUN',
  '@daily': '0 0 0 * * *',
  '@midnight': '0 0 0 * * *',
  '@hourly': '0 0 * * * *',
};

const cronCache = new Map<string, Cron>();

function cronOf(expression: string, timezone: string): Cron {
  const key = `${timezone}\n${expression}`;
  let cron = cronCache.get(key);
  if (!cron) {
    const pattern = SHORTHANDS[expression.trim().toLowerCase()] ?? expression.trim();
    cron = new Cron(pattern, {
      timezone,
      mode: '6-or-7-parts',
      alternativeWeekdays: true,
      domAndDow: true,
    });
    if (cronCache.size > 1000) cronCache.clear();
    cronCache.set(key, cron);
  }
  return cron;
}

/** The next cron instant strictly after `afterMs`; local times skipped by a DST jump never fire. */
function cronNext(cron: Cron, afterMs: number): number | null {
  let at = afterMs;
  for (let guard = 0; guard < 1000; guard++) {
    const d = cron.nextRun(new Date(at));
    if (!d) return null;
    // croner moves a fixed-time job out of a spring-forward gap to the first valid instant; the
    // reference daemon skips that day instead, so an instant that does not match is passed over.
    if (cron.match(d)) return d.getTime();
    at = d.getTime();
  }
  return null;
}

export function checkTimezone(timezone: string): void {
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
  } catch {
    throw new CadenceError(
      'invalid_timezone',
      `unknown timezone "${timezone}"; use an IANA name such as UTC, Europe/Paris or America/New_York`,
    );
  }
}

const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'];

/**
 * The six-field form of a five-field (Unix) cron expression, or null when there is none. Unix
 * counts weekdays 0-6 from Sunday and we count 1-7 (the reference's reading), so numeric weekdays
 * become names, which both read alike.
 */
export function sixFieldForm(expression: string, timezone = 'UTC'): string | null {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5) return null;
  const dow = fields[4]!
    .split(',')
    .map((part) => {
      const [range, step] = part.split('/');
      const named = range!
        .split('-')
        .map((v) => (/^\d+$/.test(v) && Number(v) <= 7 ? WEEKDAYS[Number(v)]! : v))
        .join('-');
      return step === undefined ? named : `${named}/${step}`;
    })
    .join(',');
  const six = ['0', ...fields.slice(0, 4), dow].join(' ');
  try {
    cronOf(six, timezone);
    return six;
  } catch {
    return null;
  }
}

/** Validates a cadence the way creation requires (the caller has checked the JSON shape). */
export function checkCadence(cadence: Cadence, now: number): void {
  if (cadence.type === 'once') {
    if (!Number.isSafeInteger(cadence.fire_at_ms) || cadence.fire_at_ms <= 0)
      throw new CadenceError('invalid_cadence', 'cadence.fire_at_ms must be a positive whole number of ms');
    return;
  }
  if (cadence.type === 'interval') {
    const s = cadence.every_seconds;
    if (!Number.isSafeInteger(s) || s < MIN_INTERVAL_SECONDS)
      throw new CadenceError(
        'invalid_cadence',
        `cadence.every_seconds must be a whole number of at least ${MIN_INTERVAL_SECONDS} (got ${s})`,
      );
    return;
  }
  checkTimezone(cadence.timezone);
  const fields = cadence.expression.trim().split(/\s+/);
  if (!SHORTHANDS[cadence.expression.trim().toLowerCase()] && fields.length !== 6 && fields.length !== 7) {
    const six = sixFieldForm(cadence.expression, cadence.timezone);
    throw new CadenceError(
      'invalid_cadence',
      `cron expressions have 6 fields (seconds first) or 7 (with a year), got ${fields.length}: ` +
        (six
          ? `write "${six}" for "${cadence.expression.trim()}" (a seconds field first, weekdays by name)`
          : '"0 0 9 * * MON-FRI" is 09:00 on weekdays'),
    );
  }
  let cron: Cron;
  try {
    cron = cronOf(cadence.expression, cadence.timezone);
  } catch (err) {
    throw new CadenceError(
      'invalid_cadence',
      `invalid cron expression "${cadence.expression}": ${(err as Error).message}`,
    );
  }
  const instants: number[] = [];
  for (let at = now; instants.length < 10; ) {
    const next = cronNext(cron, at);
    if (next === null) break;
    instants.push(next);
    at = next;
  }
  if (instants.length < 2)
    throw new CadenceError(
      'invalid_cadence',
      `cron expression "${cadence.expression}" fires ${instants.length === 0 ? 'never' : 'only once'} from now; use a once cadence for a single fire`,
    );
  for (let i = 1; i < instants.length; i++) {
    if (instants[i]! - instants[i - 1]! < MIN_INTERVAL_SECONDS * 1000)
      throw new CadenceError(
        'invalid_cadence',
        `cron expression "${cadence.expression}" fires less than ${MIN_INTERVAL_SECONDS} s apart; the minimum gap is ${MIN_INTERVAL_SECONDS} s`,
      );
  }
}

/** The occurrence after `t` (strictly), or null when the cadence has no more. */
export function nextAfter(cadence: Cadence, t: number): number | null {
  if (cadence.type === 'once') return null;
  if (cadence.type === 'interval') return t + cadence.every_seconds * 1000;
  return cronNext(cronOf(cadence.expression, cadence.timezone), t);
}

/**
 * The first occurrence of a new (or resumed cron) schedule. A `once` in the past is due at once
 * (as in the reference daemon) and keeps its instant, so its run's `scheduled_for_ms` is the
 * `fire_at_ms` asked for; an interval first fires one period from now.
 */
export function firstFireAt(cadence: Cadence, now: number): number | null {
  if (cadence.type === 'once') return cadence.fire_at_ms;
  return nextAfter(cadence, now);
}

interface DueOccurrences {
  /** The newest due occurrences (≤ now), ascending, at most `keep` of them. */
  latest: number[];
  /** How many occurrences from `from` to now are due (a lower bound past SCAN_LIMIT). */
  count: number;
  /** The first occurrence after now. */
  next: number | null;
}

/** Occurrences from `from` (itself due) up to `now`. */
export function dueOccurrences(cadence: Cadence, from: number, now: number, keep: number): DueOccurrences {
  if (from > now) return { latest: [], count: 0, next: from };
  if (cadence.type === 'once') return { latest: [from], count: 1, next: null };
  if (cadence.type === 'interval') {
    const p = cadence.every_seconds * 1000;
    const count = Math.floor((now - from) / p) + 1;
    const last = from + (count - 1) * p;
    const latest: number[] = [];
    for (let i = Math.max(0, count - keep); i < count; i++) latest.push(from + i * p);
    return { latest, count, next: last + p };
  }
  const cron = cronOf(cadence.expression, cadence.timezone);
  const walked: number[] = [from];
  let at: number | null = from;
  while (walked.length <= SCAN_LIMIT) {
    at = cronNext(cron, at);
    if (at === null || at > now) return { latest: walked.slice(-keep), count: walked.length, next: at };
    walked.push(at);
  }
  // A very long gap: take the newest occurrences backwards from now instead of walking it all.
  const latest = cron
    .previousRuns(keep + 5, new Date(now + 1))
    .filter((d) => cron.match(d) && d.getTime() > from)
    .map((d) => d.getTime())
    .reverse()
    .slice(-keep);
  return { latest, count: SCAN_LIMIT + 1, next: cronNext(cron, now) };
}

export interface FirePlan {
  /** Occurrences to dispatch now, ascending. */
  fires: number[];
  /** Occurrences to record as skipped (the newest ones when there are many), ascending. */
  skipped: number[];
  /** All occurrences skipped by this plan, including those not recorded one by one. */
  skippedTotal: number;
  skipReason: string | null;
  /** The new `next_fire_at_ms` (null: the cadence has no more occurrences). */
  next: number | null;
}

/**
 * What to do with occurrence `claimed` (and any later ones also due) at `now`. An occurrence more
 * than MISFIRE_GRACE_MS late was missed (the daemon was down or stalled) and the misfire policy
 * decides; `retrying` exempts `claimed` itself, whose dispatch is being retried. Lateness counts
 * from `knownSince` (the schedule's creation) when that is later: a `once` created after its
 * instant was never missed, it is simply due.
 */
export function planDue(
  cadence: Cadence,
  misfire: MisfirePolicy,
  claimed: number,
  now: number,
  retrying = false,
  knownSince = Number.NEGATIVE_INFINITY,
): FirePlan {
  const keep = Math.max(RECENT_EXECUTION_LIMIT, misfire.type === 'catch_up' ? misfire.max : 1);
  const due = dueOccurrences(cadence, claimed, now, keep);
  const isLate = (t: number) =>
    now - Math.max(t, knownSince) > MISFIRE_GRACE_MS && !(retrying && t === claimed);
  // Occurrences left out of `latest` are older than those in it, so late as well.
  const lateCount = due.count - due.latest.filter((t) => !isLate(t)).length;
  if (lateCount === 0)
    return { fires: due.latest, skipped: [], skippedTotal: 0, skipReason: null, next: due.next };
  const split = (fires: number[], reason: string): FirePlan => {
    const skipped = due.latest.filter((t) => !fires.includes(t)).slice(-RECENT_EXECUTION_LIMIT);
    return { fires, skipped, skippedTotal: due.count - fires.length, skipReason: reason, next: due.next };
  };
  switch (misfire.type) {
    case 'coalesce_once':
      return split(
        due.latest.slice(-1),
        'missed while the daemon was not firing; coalesced into one fire (misfire_policy coalesce_once)',
      );
    case 'skip_missed':
      return split(
        due.latest.filter((t) => !isLate(t)),
        'missed while the daemon was not firing (misfire_policy skip_missed)',
      );
    case 'catch_up':
      return split(
        due.latest.slice(-misfire.max),
        `missed while the daemon was not firing; beyond the newest ${misfire.max} caught up (misfire_policy catch_up)`,
      );
  }
}

/** Exponential backoff with deterministic jitter (same schedule, fire and attempt → same delay). */
export function retryDelayMs(
  policy: { retry_base_delay_ms: number; retry_max_delay_ms: number; retry_jitter_ms: number },
  attempt: number,
  seed: string,
): number {
  const exp = Math.min(
    policy.retry_max_delay_ms,
    policy.retry_base_delay_ms * 2 ** Math.min(30, attempt - 1),
  );
  let h = 2166136261;
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 16777619) >>> 0;
  const jitter = policy.retry_jitter_ms > 0 ? h % (policy.retry_jitter_ms + 1) : 0;
  return exp + jitter;
}
