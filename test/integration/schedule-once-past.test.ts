// A `once` schedule created after its instant fires at once, and its run records the instant asked
// for (`scheduled_for_ms == fire_at_ms`), whatever the misfire policy: it was never missed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon, waitForRun } from '../helpers/daemon.ts';

let d: TestDaemon;
before(async () => {
  d = await startDaemon();
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'late' });
});
after(async () => {
  await d.kill();
  await d.cleanup();
});

async function firedRun(scheduleId: string): Promise<any> {
  for (;;) {
    const v = (await http(d.url, 'GET', `/v1/schedules/${scheduleId}`)).body;
    const e = v.recent_executions.find((x: { run_id?: string }) => x.run_id);
    if (e) return { view: v, execution: e, run: await waitForRun(d.url, e.run_id) };
    await new Promise((r) => setTimeout(r, 25));
  }
}

for (const misfire of ['coalesce_once', 'skip_missed'] as const)
  test(`once created an hour after its instant (misfire ${misfire}) fires with scheduled_for_ms = fire_at_ms`, async () => {
    const fireAt = Date.now() - 3_600_000;
    const created = await http(d.url, 'POST', '/v1/schedules', {
      name: `late-${misfire}`,
      target_session_id: 'late',
      cadence: { type: 'once', fire_at_ms: fireAt },
      misfire_policy: { type: misfire },
      request: { content: 'hello' },
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.next_fire_at_ms, fireAt);
    const { execution, run } = await firedRun(created.body.schedule_id);
    assert.equal(execution.fire_at_ms, fireAt);
    assert.equal(run.kind, 'scheduled_input');
    assert.equal(run.input_metadata.scheduled_for_ms, fireAt);
    assert.equal(run.status, 'completed');
    const done = (await http(d.url, 'GET', `/v1/schedules/${created.body.schedule_id}`)).body;
    assert.equal(done.execution_count, 1);
    assert.equal(done.next_fire_at_ms, null);
  });
