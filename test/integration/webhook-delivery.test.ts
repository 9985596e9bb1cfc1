// Issue 16 end to end, ingress to answer: an HTTP connector's event becomes a run, and the run's
// answer is POSTed by the http output plugin to the connector's default reply target (a bare URL
// and a JSON route both work), through the durable queue. SQLite, and PostgreSQL with
// KHEISH_TEST_STORE=postgres.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon, waitForRun } from '../helpers/daemon.ts';
import { type ReplyReceiver, startReceiver } from '../helpers/reply-receiver.ts';

let d: TestDaemon;
let rx: ReplyReceiver;

before(async () => {
  rx = await startReceiver();
  d = await startDaemon({ script: { default: { turns: [{ text: 'order noted' }] } } });
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
  await rx?.close();
});

test('issue 16: a webhook event becomes a run and its answer is delivered to the connector reply target', async () => {
  const put = await http(d.url, 'PUT', '/v1/runtime/connectors/http/orders', {
    allow_unauthenticated_ingress: true,
    fixed_session_id: 'orders',
    session_policy: { create_if_missing: true },
    default_reply_targets: [
      { plugin: 'http', address: JSON.stringify({ url: rx.at('/orders'), allow_private_network: true }) },
    ],
  });
  assert.equal(put.status, 200, put.text);
  const ev = await http(d.url, 'POST', '/v1/connectors/http/orders', {
    content: 'order 42 shipped?',
    idempotency_key: 'order-42',
  });
  assert.ok([200, 202].includes(ev.status), ev.text);
  const runId = ev.body.run_id as string;
  assert.ok(runId, ev.text);
  await waitForRun(d.url, runId);
  await rx.waitFor((r) => r.some((x) => x.path === '/orders'));
  const got = rx.received.find((x) => x.path === '/orders')!;
  assert.equal(got.body.run_id, runId);
  assert.equal(got.body.session_id, 'orders');
  assert.equal(got.body.content, 'order noted');
  assert.match(String(got.headers['idempotency-key']), /^kheish:dlv-/);
  // The same event again: no new run, so no second delivery.
  const again = await http(d.url, 'POST', '/v1/connectors/http/orders', {
    content: 'order 42 shipped?',
    idempotency_key: 'order-42',
  });
  assert.equal(again.body.run_id, runId, again.text);
  // The receiver answered before the daemon committed the outcome: wait for it.
  let run: any;
  for (let i = 0; i < 200 && run?.deliveries?.[0]?.status !== 'delivered'; i++) {
    run = (await http(d.url, 'GET', `/v1/runs/${runId}`)).body;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.equal(run.deliveries.length, 1);
  assert.equal(run.deliveries[0].status, 'delivered');
  assert.equal(rx.received.filter((x) => x.path === '/orders').length, 1);
});

test('issue 16: a reply URL on a loopback address without allow_private_network is refused by the SSRF guard, never sent', async () => {
  const put = await http(d.url, 'PUT', '/v1/runtime/connectors/http/local', {
    allow_unauthenticated_ingress: true,
    fixed_session_id: 'local',
    session_policy: { create_if_missing: true },
    default_reply_targets: [{ plugin: 'http', address: rx.at('/ssrf') }],
  });
  assert.equal(put.status, 200, put.text);
  const ev = await http(d.url, 'POST', '/v1/connectors/http/local', { content: 'hi', idempotency_key: 'k1' });
  const runId = ev.body.run_id as string;
  await waitForRun(d.url, runId);
  let dv: any;
  for (let i = 0; i < 200 && dv?.status !== 'dead_lettered'; i++) {
    dv = (await http(d.url, 'GET', `/v1/deliveries?run_id=${runId}`)).body[0];
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.equal(dv.status, 'dead_lettered', JSON.stringify(dv));
  assert.equal(dv.last_error_code, 'forbidden_target');
  assert.ok(!JSON.stringify(dv).includes('127.0.0.1'), 'the error does not show the URL');
  assert.equal(rx.arrivals('/ssrf'), 0);
});
