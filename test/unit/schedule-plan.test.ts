// Cadence math and fire planning (src/engine/schedule-plan.ts), with explicit clocks.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type Cadence,
  CadenceError,
  checkCadence,
  dueOccurrences,
  firstFireAt,
  MISFIRE_GRACE_MS,
  nextAfter,
  planDue,
  retryDelayMs,
} from '../../src/engine/schedule-plan.ts';

const T = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const cron = (expression: string, timezone = 'UTC'): Cadence => ({ type: 'cron', expression, timezone });

function rejects(cadence: Cadence, code: string, match?: RegExp) {
  assert.throws(
    () => checkCadence(cadence, T('2025-01-01T00:00:00Z')),
    (err: unknown) => err instanceof CadenceError && err.code === code && (!match || match.test(err.message)),
  );
}

/** The next `n` occurrences after `from`. */
function walk(c: Cadence, from: number, n: number): string[] {
  const out: string[] = [];
  for (let at: number | null = from; out.length < n; ) {
    at = nextAfter(c, at!);
    if (at === null) break;
    out.push(iso(at)!);
  }
  return out;
}

describe('cadence validation', () => {
  test('interval: at least 5 whole seconds', () => {
    rejects({ type: 'interval', every_seconds: 4 }, 'invalid_cadence', /at least 5/);
    rejects({ type: 'interval', every_seconds: 7.5 }, 'invalid_cadence');
    checkCadence({ type: 'interval', every_seconds: 5 }, Date.now());
  });

  test('once: a positive whole fire_at_ms, past times allowed', () => {
    rejects({ type: 'once', fire_at_ms: 0 }, 'invalid_cadence');
    rejects({ type: 'once', fire_at_ms: 1.5 }, 'invalid_cadence');
    checkCadence({ type: 'once', fire_at_ms: 1 }, Date.now());
  });

  test('cron: 6 or 7 fields, seconds first; 5-field Unix lines are refused', () => {
    rejects(cron('*/5 * * * *'), 'invalid_cadence', /6 fields/);
    rejects(cron('not a cron at all'), 'invalid_cadence');
    rejects(cron('0 0 99 * * *'), 'invalid_cadence');
    checkCadence(cron('0 0 9 * * MON-FRI', 'Europe/Paris'), Date.now());
    checkCadence(cron('@hourly'), Date.now());
  });

  test('cron: faster than every 5 s, firing never or only once is refused', () => {
    rejects(cron('*/2 * * * * *'), 'invalid_cadence', /5 s/);
    rejects(cron('0,1 * * * * *'), 'invalid_cadence', /5 s/);
    checkCadence(cron('*/5 * * * * *'), T('2025-01-01T00:00:00Z'));
    rejects(cron('0 0 9 1 1 * 2020'), 'invalid_cadence', /never/);
    rejects(cron('0 0 9 1 1 * 2026'), 'invalid_cadence', /only once/);
  });

  test('unknown timezones are their own code', () => {
    rejects(cron('0 0 9 * * *', 'Mars/Olympus_Mons'), 'invalid_timezone', /IANA/);
  });
});

describe('occurrences', () => {
  test('interval: first fire one period from now, then every period', () => {
    const c: Cadence = { type: 'interval', every_seconds: 60 };
    const now = T('2025-01-01T00:00:00.500Z');
    assert.equal(iso(firstFireAt(c, now)), '2025-01-01T00:01:00.500Z');
    assert.equal(iso(nextAfter(c, now)), '2025-01-01T00:01:00.500Z');
  });

  test('once: fires at its time, a past time is due now and keeps its instant, nothing after', () => {
    const now = T('2025-06-01T00:00:00Z');
    assert.equal(firstFireAt({ type: 'once', fire_at_ms: now + 10 }, now), now + 10);
    assert.equal(firstFireAt({ type: 'once', fire_at_ms: 5 }, now), 5);
    assert.equal(nextAfter({ type: 'once', fire_at_ms: now }, now), null);
  });

  test('cron weekdays count from Sunday = 1, day-of-month AND day-of-week', () => {
    const from = T('2025-01-01T00:00:00Z'); // a Wednesday
    assert.deepEqual(walk(cron('0 0 9 * * 2'), from, 2), [
      '2025-01-06T09:00:00.000Z',
      '2025-01-13T09:00:00.000Z',
    ]);
    assert.deepEqual(walk(cron('0 0 9 * * MON'), from, 1), ['2025-01-06T09:00:00.000Z']);
    // The 13th only when it is a Friday.
    assert.deepEqual(walk(cron('0 0 0 13 * FRI'), from, 2), [
      '2025-06-13T00:00:00.000Z',
      '2026-02-13T00:00:00.000Z',
    ]);
  });

  test('cron in a timezone: spring-forward skips the missing local time, fall-back fires once', () => {
    const c = cron('0 30 2 * * *', 'Europe/Paris');
    // 2025-03-30: 02:00 → 03:00 in Paris, 02:30 does not exist that day.
    assert.deepEqual(walk(c, T('2025-03-28T12:00:00Z'), 3), [
      '2025-03-29T01:30:00.000Z',
      '2025-03-31T00:30:00.000Z',
      '2025-04-01T00:30:00.000Z',
    ]);
    // 2025-10-26: 03:00 → 02:00, 02:30 happens twice; one fire.
    assert.deepEqual(walk(c, T('2025-10-25T12:00:00Z'), 2), [
      '2025-10-26T00:30:00.000Z',
      '2025-10-27T01:30:00.000Z',
    ]);
    // New York 09:00 stays 09:00 local across the change (UTC offset moves from -5 to -4).
    const ny = cron('0 0 9 * * *', 'America/New_York');
    assert.deepEqual(walk(ny, T('2025-03-08T00:00:00Z'), 2), [
      '2025-03-08T14:00:00.000Z',
      '2025-03-09T13:00:00.000Z',
    ]);
  });

  test('dueOccurrences counts a gap and keeps only the newest', () => {
    const c: Cadence = { type: 'interval', every_seconds: 10 };
    const from = T('2025-01-01T00:00:00Z');
    const due = dueOccurrences(c, from, from + 95_000, 3);
    assert.equal(due.count, 10);
    assert.deepEqual(due.latest, [from + 70_000, from + 80_000, from + 90_000]);
    assert.equal(due.next, from + 100_000);
    const cronDue = dueOccurrences(cron('*/5 * * * * *'), from, from + 12_000, 50);
    assert.deepEqual(cronDue.latest, [from, from + 5_000, from + 10_000]);
    assert.equal(cronDue.next, from + 15_000);
  });

  test('a very long cron gap is bounded and still finds the newest occurrences', () => {
    const from = T('2025-01-01T00:00:00Z');
    const now = from + 30 * 86_400_000; // a month of 5-second occurrences
    const due = dueOccurrences(cron('*/5 * * * * *'), from, now, 3);
    assert.ok(due.count > 2_000);
    assert.deepEqual(due.latest, [now - 10_000, now - 5_000, now]);
    assert.equal(due.next, now + 5_000);
  });
});

describe('misfire planning', () => {
  const c: Cadence = { type: 'interval', every_seconds: 10 };
  const t0 = T('2025-01-01T00:00:00Z');

  test('on time (within the grace): the occurrence fires, no misfire', () => {
    const plan = planDue(c, { type: 'skip_missed' }, t0, t0 + MISFIRE_GRACE_MS - 1);
    assert.deepEqual(plan.fires, [t0]);
    assert.deepEqual(plan.skipped, []);
    assert.equal(plan.next, t0 + 10_000);
  });

  test('coalesce_once: one fire for the newest due occurrence, the others recorded skipped', () => {
    const plan = planDue(c, { type: 'coalesce_once' }, t0, t0 + 41_000);
    assert.deepEqual(plan.fires, [t0 + 40_000]);
    assert.deepEqual(plan.skipped, [t0, t0 + 10_000, t0 + 20_000, t0 + 30_000]);
    assert.equal(plan.skippedTotal, 4);
    assert.equal(plan.next, t0 + 50_000);
  });

  test('skip_missed: late ones are skipped; one still on time fires', () => {
    let plan = planDue(c, { type: 'skip_missed' }, t0, t0 + 41_000);
    assert.deepEqual(plan.fires, [t0 + 40_000]);
    assert.equal(plan.skippedTotal, 4);
    plan = planDue(c, { type: 'skip_missed' }, t0, t0 + 45_000);
    assert.deepEqual(plan.fires, []);
    assert.equal(plan.skippedTotal, 5);
    assert.equal(plan.next, t0 + 50_000);
  });

  test('a once created after its instant is due, not missed: it fires under skip_missed too', () => {
    const once: Cadence = { type: 'once', fire_at_ms: t0 };
    const created = t0 + 60_000;
    const plan = planDue(once, { type: 'skip_missed' }, t0, created + 10, false, created);
    assert.deepEqual(plan.fires, [t0]);
    assert.equal(plan.skippedTotal, 0);
    // Left unfired past the grace after its creation (the daemon was down), it was missed.
    const late = planDue(once, { type: 'skip_missed' }, t0, created + MISFIRE_GRACE_MS + 1, false, created);
    assert.deepEqual(late.fires, []);
    assert.equal(late.skippedTotal, 1);
  });

  test('catch_up: the newest max occurrences fire, older ones are skipped', () => {
    const plan = planDue(c, { type: 'catch_up', max: 3 }, t0, t0 + 45_000);
    assert.deepEqual(plan.fires, [t0 + 20_000, t0 + 30_000, t0 + 40_000]);
    assert.deepEqual(plan.skipped, [t0, t0 + 10_000]);
    const all = planDue(c, { type: 'catch_up', max: 10 }, t0, t0 + 45_000);
    assert.equal(all.fires.length, 5);
    assert.equal(all.skippedTotal, 0);
  });

  test('an occurrence whose dispatch is being retried is not a misfire', () => {
    const plan = planDue(c, { type: 'skip_missed' }, t0, t0 + 8_000, true);
    assert.deepEqual(plan.fires, [t0]);
  });

  test('a once that was missed: coalesce fires it, skip_missed drops it; both end the cadence', () => {
    const once: Cadence = { type: 'once', fire_at_ms: t0 };
    assert.deepEqual(planDue(once, { type: 'coalesce_once' }, t0, t0 + 60_000).fires, [t0]);
    const skipped = planDue(once, { type: 'skip_missed' }, t0, t0 + 60_000);
    assert.deepEqual([skipped.fires, skipped.skipped, skipped.next], [[], [t0], null]);
  });
});

test('retry delays: exponential, capped, with deterministic bounded jitter', () => {
  const p = { retry_base_delay_ms: 500, retry_max_delay_ms: 30_000, retry_jitter_ms: 250 };
  const d = (attempt: number, seed = 's:1') => retryDelayMs(p, attempt, `${seed}:${attempt}`);
  for (const [attempt, base] of [
    [1, 500],
    [2, 1000],
    [3, 2000],
    [7, 30_000],
    [40, 30_000],
  ] as const) {
    assert.ok(d(attempt) >= base && d(attempt) <= base + 250, `attempt ${attempt}: ${d(attempt)}`);
    assert.equal(d(attempt), d(attempt), 'same inputs, same delay');
  }
  assert.equal(retryDelayMs({ ...p, retry_jitter_ms: 0 }, 2, 'x'), 1000);
});
