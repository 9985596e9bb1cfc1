// Misfire policies across a real stop/start: three 5-second cron schedules (coalesce_once,
// skip_missed, catch_up) keep their state while the daemon is down for about 13 s; the first
// scheduler pass after the restart applies each policy to the occurrences it missed.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { MISFIRE_GRACE_MS } from '../../src/engine/schedule-plan.ts';
import { type HttpResult, http, startDaemon, type TestDaemon } from '../helpers/daemon.ts';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
let d: TestDaemon | undefined;
let first: TestDaemon | undefined;
after(async () => {
  await d?.stop();
  // The first process owns the routes file the restart reused; its cleanup removes both.
  first?.cleanup();
  d?.cleanup();
});

/** The records written by the first pass after `since`: they share its claim time. */
function firstPass(executions: any[], since: number): any[] {
  const claimed = executions.filter((e) => e.claimed_at_ms >= since).map((e) => e.claimed_at_ms);
  assert.ok(claimed.length > 0, `no scheduler pass after the restart: ${JSON.stringify(executions)}`);
  const first = Math.min(...claimed);
  return executions.filter((e) => e.claimed_at_ms === first);
}

test('coalesce_once, skip_missed and catch_up after the daemon was down across several occurrences', async () => {
  d = await startDaemon({ script: { default: { turns: [{ text: 'ok' }] } } });
  first = d;
  const ids: Record<string, string> = {};
  for (const [policy, misfire] of [
    ['coalesce', { type: 'coalesce_once' }],
    ['skip', { type: 'skip_missed' }],
    ['catch_up', { type: 'catch_up', max: 5 }],
  ] as const) {
    const sid = `misfire-${policy}`;
    assert.equal((await http(d.url, 'POST', '/v1/sessions', { session_id: sid })).status, 201);
    const res: HttpResult = await http(d.url, 'POST', '/v1/schedules', {
      name: policy,
      target_session_id: sid,
      cadence: { type: 'cron', expression: '*/5 * * * * *' },
      misfire_policy: misfire,
      overlap_policy: 'parallel',
      request: { content: 'tick' },
    });
    assert.equal(res.status, 201, res.text);
    ids[policy] = res.body.schedule_id;
  }
  assert.equal(await d.stop(), 0);
  const stoppedAt = Date.now();
  await sleep(13_000);
  const spawnAt = Date.now();
  d = await d.restart();
  // Occurrences certainly more than the grace late at the first pass (which runs after spawn).
  const missed = (e: any) => e.fire_at_ms > stoppedAt && e.fire_at_ms < spawnAt - MISFIRE_GRACE_MS;
  const expectedMissed: number[] = [];
  for (let t = Math.ceil((stoppedAt + 1) / 5000) * 5000; t < spawnAt - MISFIRE_GRACE_MS; t += 5000)
    expectedMissed.push(t);
  assert.ok(expectedMissed.length >= 2, `the outage spans several occurrences: ${expectedMissed}`);

  const view = async (policy: string) => {
    for (let i = 0; i < 100; i++) {
      const v = (await http(d!.url, 'GET', `/v1/schedules/${ids[policy]}`)).body;
      if (v.recent_executions.some((e: any) => e.claimed_at_ms >= spawnAt)) return v;
      await sleep(50);
    }
    assert.fail(`${policy}: no fire after the restart`);
  };

  const coalesce = firstPass((await view('coalesce')).recent_executions, spawnAt);
  assert.equal(
    coalesce.filter((e) => e.run_id).length,
    1,
    `coalesce_once fires once: ${JSON.stringify(coalesce)}`,
  );
  const coalescedAt = coalesce.find((e) => e.run_id).fire_at_ms;
  assert.equal(coalescedAt, Math.max(...coalesce.map((e) => e.fire_at_ms)), 'for the newest due occurrence');
  for (const t of expectedMissed.filter((t) => t !== coalescedAt))
    assert.ok(
      coalesce.some((e) => e.fire_at_ms === t && e.status === 'skipped' && /coalesce_once/.test(e.error)),
      `coalesce_once records ${t} as skipped`,
    );

  const skip = firstPass((await view('skip')).recent_executions, spawnAt);
  for (const t of expectedMissed)
    assert.ok(
      skip.some((e) => e.fire_at_ms === t && e.status === 'skipped' && /skip_missed/.test(e.error)),
      `skip_missed records ${t} as skipped: ${JSON.stringify(skip)}`,
    );
  assert.equal(skip.filter((e) => e.run_id && missed(e)).length, 0, 'skip_missed runs none of them');

  const catchUp = firstPass((await view('catch_up')).recent_executions, spawnAt);
  for (const t of expectedMissed)
    assert.ok(
      catchUp.some((e) => e.fire_at_ms === t && e.run_id),
      `catch_up fires ${t}: ${JSON.stringify(catchUp)}`,
    );
  assert.equal(catchUp.filter((e) => e.status === 'skipped').length, 0, 'within max, nothing is skipped');
  const runs = (await http(d.url, 'GET', '/v1/runs?session_id=misfire-catch_up')).body;
  const fired = catchUp.map((e) => e.run_id);
  assert.deepEqual(
    runs.filter((r: any) => fired.includes(r.run_id)).map((r: any) => r.kind),
    fired.map(() => 'scheduled_input'),
  );
  for (const id of Object.values(ids)) await http(d.url, 'POST', `/v1/schedules/${id}/cancel`);
});
