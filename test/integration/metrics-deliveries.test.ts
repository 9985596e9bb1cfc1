// GET /metrics with deliveries in the workload (docs/operations.md, decisions #571, #593): one output
// delivered, one retried to exhaustion, one refused with a 400 (terminal) and that dead letter
// then resolved. The delivery gauges on /metrics equal /v1/status and the dead-letter list.
// Runs on SQLite, and on PostgreSQL with KHEISH_TEST_STORE=postgres.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon, waitForRun } from '../helpers/daemon.ts';
import { parsePrometheusText, sampleValue } from '../helpers/prom-text.ts';
import { httpTarget, type ReplyReceiver, startReceiver } from '../helpers/reply-receiver.ts';

let d: TestDaemon;
let rx: ReplyReceiver;

before(async () => {
  rx = await startReceiver();
  d = await startDaemon({
    env: {
      KHEISH_DELIVERY_INITIAL_RETRY_MS: '50',
      KHEISH_DELIVERY_MAX_RETRY_MS: '100',
      KHEISH_DELIVERY_MAX_ATTEMPTS: '2',
      KHEISH_DELIVERY_ATTEMPT_TIMEOUT_MS: '600',
    },
  });
});
after(async () => {
  await d?.stop();
  await d?.cleanup();
  await rx?.close();
});

/** Runs one prompt in a fresh session whose reply target is `path` on the receiver. */
async function runTo(path: string): Promise<string> {
  const s = (await http(d.url, 'POST', '/v1/sessions', {})).body.session_id;
  const set = await http(d.url, 'POST', `/v1/sessions/${s}/reply-targets`, [httpTarget(rx.at(path))]);
  assert.equal(set.status, 200, set.text);
  const run = await http(d.url, 'POST', `/v1/sessions/${s}/runs`, { content: 'hello' });
  assert.equal(run.status, 202, run.text);
  await waitForRun(d.url, run.body.run_id);
  return run.body.run_id;
}

async function settledDeliveries(runId: string): Promise<any[]> {
  const end = Date.now() + 15_000;
  for (;;) {
    const v = (await http(d.url, 'GET', `/v1/deliveries?run_id=${runId}`)).body as any[];
    if (v.length > 0 && v.every((x) => x.status === 'delivered' || x.status === 'dead_lettered')) return v;
    if (Date.now() > end) throw new Error(`deliveries of ${runId} never settled: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 30));
  }
}

test('metrics: dead letters and deliveries on /metrics equal /v1/status and the dead-letter list', async () => {
  rx.script('/refused', [{ status: 400 }]);
  rx.script('/down', [{ status: 503 }, { status: 503 }, { status: 503 }]);
  rx.script('/handled', [{ status: 400 }]);
  const ok = await runTo('/ok');
  const refused = await runTo('/refused');
  const down = await runTo('/down');
  const handled = await runTo('/handled');
  assert.equal((await settledDeliveries(ok))[0].status, 'delivered');
  const [deadRefused] = await settledDeliveries(refused);
  const [deadDown] = await settledDeliveries(down);
  const [deadHandled] = await settledDeliveries(handled);
  assert.deepEqual(
    [deadRefused.status, deadDown.status, deadHandled.status],
    ['dead_lettered', 'dead_lettered', 'dead_lettered'],
  );
  assert.equal(deadDown.attempts, 2, 'a 503 is retried until the attempts run out');
  const resolve = await http(d.url, 'POST', `/v1/deliveries/${deadHandled.delivery_id}/resolve`, {
    reason: 'sent by hand',
  });
  assert.equal(resolve.status, 200, resolve.text);

  const m = parsePrometheusText((await http(d.url, 'GET', '/metrics')).text);
  const delivery = (await http(d.url, 'GET', '/v1/status')).body.delivery;
  const dlq = (await http(d.url, 'GET', '/v1/deliveries/dead-letter')).body as any[];
  const unresolvedInList = dlq.filter((x) => !x.resolution).length;

  // The three agree: the gauges, the status figures, and the dead-letter list itself.
  assert.equal(dlq.length, 3);
  assert.equal(unresolvedInList, 2);
  assert.deepEqual(
    [delivery.dead_lettered, delivery.unresolved_dead_lettered],
    [3, 2],
    JSON.stringify(delivery),
  );
  assert.equal(sampleValue(m, 'kheish_delivery_dead_letters', { resolved: 'false' }), unresolvedInList);
  assert.equal(
    sampleValue(m, 'kheish_delivery_dead_letters', { resolved: 'true' }),
    dlq.length - unresolvedInList,
  );
  assert.equal(sampleValue(m, 'kheish_deliveries', { state: 'delivered' }), delivery.delivered);
  assert.equal(delivery.delivered, 1);
  for (const state of ['pending', 'retrying', 'in_flight', 'needs_operator'])
    if (typeof delivery[state] === 'number')
      assert.equal(sampleValue(m, 'kheish_deliveries', { state }), delivery[state], state);

  // A replay of a dead letter that now succeeds: delivered goes up, the dead letter stays counted.
  rx.script('/refused', [{ status: 200 }]);
  const replay = await http(d.url, 'POST', `/v1/deliveries/${deadRefused.delivery_id}/replay`);
  assert.ok(replay.status < 300, replay.text);
  await settledDeliveries(refused).then(async function wait(v): Promise<unknown> {
    if (v.some((x) => x.delivery_id === replay.body.delivery_id && x.status === 'delivered')) return v;
    await new Promise((r) => setTimeout(r, 30));
    return settledDeliveries(refused).then(wait);
  });
  const m2 = parsePrometheusText((await http(d.url, 'GET', '/metrics')).text);
  const after = (await http(d.url, 'GET', '/v1/status')).body.delivery;
  assert.equal(sampleValue(m2, 'kheish_deliveries', { state: 'delivered' }), after.delivered);
  assert.equal(after.delivered, 2);
  assert.equal(
    sampleValue(m2, 'kheish_delivery_dead_letters', { resolved: 'false' }),
    after.unresolved_dead_lettered,
  );
});
