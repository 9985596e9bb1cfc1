// Output routing conformance (api-core §3.4/§3.14 #28; api-collab §8 #54, #65 http half, #66,
// #67): session reply-target defaults, run snapshots, the http plugin's wire contract, and dead
// letters with replay and resolve. Runs on SQLite, and on PostgreSQL with KHEISH_TEST_STORE=postgres.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon, waitForRun } from '../helpers/daemon.ts';
import { httpTarget, type ReplyReceiver, startReceiver } from '../helpers/reply-receiver.ts';
import { assertProblem, createSession, SCRIPT, submitRun } from './support.ts';

let d: TestDaemon;
let rx: ReplyReceiver;
const base = () => d.url;

before(async () => {
  rx = await startReceiver();
  d = await startDaemon({
    script: {
      ...SCRIPT,
      rules: [
        ...SCRIPT.rules,
        {
          match: 'emit',
          turns: [
            { tool_calls: [{ name: 'emit_output', arguments: { content: 'emitted first' } }] },
            { text: 'then the answer' },
          ],
        },
      ],
    },
    env: {
      KHEISH_DELIVERY_INITIAL_RETRY_MS: '50',
      KHEISH_DELIVERY_MAX_RETRY_MS: '200',
      KHEISH_DELIVERY_MAX_ATTEMPTS: '3',
      KHEISH_DELIVERY_ATTEMPT_TIMEOUT_MS: '600',
    },
  });
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
  await rx?.close();
});

async function deliveriesOf(runId: string, until: (v: any[]) => boolean, timeoutMs = 10_000): Promise<any[]> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const res = await http(base(), 'GET', `/v1/deliveries?run_id=${runId}`);
    assert.equal(res.status, 200, res.text);
    if (until(res.body)) return res.body;
    if (Date.now() > end) throw new Error(`deliveries of ${runId} never settled: ${res.text}`);
    await new Promise((r) => setTimeout(r, 30));
  }
}
const settled = (v: any[]) =>
  v.length > 0 && v.every((x) => x.status === 'delivered' || x.status === 'dead_lettered');

test("api-core #28: the checklist's Telegram form is stored as a telegram ReplyHandle whose JSON address has connector and chat_id", async () => {
  const made = await http(base(), 'PUT', '/v1/runtime/connectors/telegram/c', {
    ingress_mode: 'webhook',
    allow_unauthenticated_ingress: true,
  });
  assert.ok(made.status < 300, made.text);
  const sid = await createSession(base());
  const set = await http(base(), 'POST', `/v1/sessions/${sid}/reply-targets`, [
    { type: 'telegram', connector: 'c', chat_id: 1 },
  ]);
  assert.equal(set.status, 200, set.text);
  const got = await http(base(), 'GET', `/v1/sessions/${sid}/reply-targets`);
  assert.equal(got.status, 200, got.text);
  assert.equal(got.body.reply_targets.length, 1);
  const [t] = got.body.reply_targets;
  assert.equal(t.plugin, 'telegram');
  assert.equal(typeof t.address, 'string');
  const addr = JSON.parse(t.address);
  assert.equal(addr.connector, 'c');
  assert.equal(addr.chat_id, 1);
});

test('api-core #28: structured reply targets are stored and returned as ReplyHandles whose address is JSON', async () => {
  const sid = await createSession(base());
  const url = rx.at('/t28');
  const set = await http(base(), 'POST', `/v1/sessions/${sid}/reply-targets`, [
    httpTarget(url, { 'X-Team': 'ops' }),
    { type: 'raw', plugin: 'http', address: JSON.stringify({ url: rx.at('/raw') }) },
  ]);
  assert.equal(set.status, 200, set.text);
  assert.equal(set.body.session_id, sid, 'answers with the SessionView');
  const got = await http(base(), 'GET', `/v1/sessions/${sid}/reply-targets`);
  assert.equal(got.status, 200, got.text);
  assert.equal(got.body.reply_targets.length, 2);
  const [h, raw] = got.body.reply_targets;
  assert.equal(h.plugin, 'http');
  assert.equal(typeof h.address, 'string');
  const addr = JSON.parse(h.address);
  assert.equal(addr.url, url);
  assert.deepEqual(addr.headers, { 'X-Team': 'ops' });
  assert.equal(addr.allow_private_network, true);
  assert.deepEqual(raw, { plugin: 'http', address: JSON.stringify({ url: rx.at('/raw') }) });

  // PUT with the envelope replaces; DELETE clears.
  const put = await http(base(), 'PUT', `/v1/sessions/${sid}/reply-targets`, {
    reply_targets: [{ plugin: 'http', address: JSON.stringify({ url }) }],
  });
  assert.equal(put.status, 200, put.text);
  assert.equal((await http(base(), 'GET', `/v1/sessions/${sid}/reply-targets`)).body.reply_targets.length, 1);
  assert.equal((await http(base(), 'DELETE', `/v1/sessions/${sid}/reply-targets`)).status, 200);
  assert.deepEqual((await http(base(), 'GET', `/v1/sessions/${sid}/reply-targets`)).body, {
    reply_targets: [],
  });

  // Unknown plugins and types are refused, and unknown sessions are 404.
  for (const bad of [
    [{ type: 'carrier_pigeon', to: 'x' }],
    [{ plugin: 'nope', address: 'x' }],
    [{ type: 'http', url: 'ftp://example.com/x' }],
    [{ type: 'http', url: 'https://user:pw@example.com/x' }],
  ]) {
    const res = await http(base(), 'POST', `/v1/sessions/${sid}/reply-targets`, bad);
    assertProblem(res, 400, 'deliveries', 'invalid_reply_target');
  }
  assertProblem(
    await http(base(), 'GET', '/v1/sessions/nobody/reply-targets'),
    404,
    'sessions',
    'session_not_found',
  );
});

test('api-collab #54: an http reply target with Authorization, Cookie, Host or X-Forwarded-For is rejected', async () => {
  const sid = await createSession(base());
  for (const header of [
    'Authorization',
    'cookie',
    'Host',
    'X-Forwarded-For',
    'Proxy-Authorization',
    'X-Api-Key',
    'Idempotency-Key',
    'Content-Type',
  ]) {
    const res = await http(base(), 'POST', `/v1/sessions/${sid}/reply-targets`, {
      reply_targets: [httpTarget(rx.at('/t54'), { [header]: 'secret-value' })],
    });
    assertProblem(res, 400, 'deliveries', 'invalid_reply_target');
    assert.ok(!res.text.includes('secret-value'), 'the refusal does not echo the header value');
  }
  // Also on a run's own reply targets.
  const res = await http(base(), 'POST', `/v1/sessions/${sid}/runs`, {
    content: 'hi',
    reply_targets: [httpTarget(rx.at('/t54'), { Authorization: 'Bearer x' })],
  });
  assertProblem(res, 400, 'deliveries', 'invalid_reply_target');
  assert.deepEqual((await http(base(), 'GET', `/v1/sessions/${sid}/reply-targets`)).body, {
    reply_targets: [],
  });
});

test('api-collab #65 (http half): the http plugin POSTs JSON with Idempotency-Key kheish:<delivery_id>; views are redacted', async () => {
  const sid = await createSession(base());
  const url = rx.at('/t65');
  await http(base(), 'POST', `/v1/sessions/${sid}/reply-targets`, [
    httpTarget(url, { 'X-Route': 'secret-route-token' }),
  ]);
  const run = await submitRun(base(), sid, { content: 'long answer please' });
  await waitForRun(base(), run.run_id);
  const [dv] = await deliveriesOf(run.run_id, settled);
  assert.equal(dv.status, 'delivered');
  assert.equal(dv.attempts, 1);
  const got = rx.received.find((r) => r.path === '/t65')!;
  assert.ok(got, 'the receiver got the output');
  assert.equal(got.headers['idempotency-key'], `kheish:${dv.delivery_id}`);
  assert.match(String(got.headers['content-type']), /^application\/json/);
  assert.equal(got.headers['x-route'], 'secret-route-token');
  assert.equal(got.body.delivery_id, dv.delivery_id);
  assert.equal(got.body.run_id, run.run_id);
  assert.equal(got.body.session_id, sid);
  assert.equal(got.body.content, 'a fairly long answer that the driver streams in several deltas');
  assert.deepEqual(got.body.parts, [{ type: 'text', text: got.body.content }]);
  assert.deepEqual(got.body.artifacts, []);

  // RunView.deliveries embeds the same redacted view; nothing shows the address.
  const view = (await http(base(), 'GET', `/v1/runs/${run.run_id}`)).body;
  assert.equal(view.deliveries.length, 1);
  assert.equal(view.deliveries[0].delivery_id, dv.delivery_id);
  assert.match(view.deliveries[0].target_digest, /^[0-9a-f]{64}$/);
  for (const text of [
    JSON.stringify(view),
    JSON.stringify(dv),
    (await http(base(), 'GET', `/v1/runs/${run.run_id}/events`)).text,
  ]) {
    assert.ok(
      !text.includes('/t65') && !text.includes('secret-route-token'),
      'no address in views or events',
    );
  }
  const events = (await http(base(), 'GET', `/v1/runs/${run.run_id}/events`)).body;
  const steps = events.filter(
    (e: any) => e.event.type === 'trace' && e.event.trace.kind === 'delivery_updated',
  );
  assert.deepEqual(
    steps.map((e: any) => e.event.trace.delivery.status),
    ['pending', 'delivered'],
    'each delivery state change is a durable step on the run',
  );
  // Daemon-local when there are no targets: the output exists, no delivery.
  const local = await createSession(base());
  const quiet = await submitRun(base(), local, { content: 'hi' });
  const done = await waitForRun(base(), quiet.run_id);
  assert.equal(done.outputs.length, 1);
  assert.equal(done.deliveries, undefined);
});

test('api-collab §8: every persisted output is delivered, emit_output ones too, in order per target', async () => {
  const sid = await createSession(base());
  await http(base(), 'POST', `/v1/sessions/${sid}/reply-targets`, [httpTarget(rx.at('/emit'))]);
  const run = await submitRun(base(), sid, { content: 'emit please' });
  const done = await waitForRun(base(), run.run_id);
  assert.deepEqual(
    done.outputs.map((o: any) => o.source_kind),
    ['emit_output', 'assistant_text'],
  );
  const list = await deliveriesOf(run.run_id, (v) => v.length === 2 && settled(v));
  assert.deepEqual(
    list.map((x) => [x.source_kind, x.status]),
    [
      ['emit_output', 'delivered'],
      ['assistant_text', 'delivered'],
    ],
  );
  assert.deepEqual(
    rx.received.filter((r) => r.path === '/emit').map((r) => r.body.content),
    ['emitted first', 'then the answer'],
    'one target receives its outputs in the order they were persisted',
  );
});

test('api-collab #66: reply-target edits are prospective; queued and running runs keep their snapshot', async () => {
  const sid = await createSession(base());
  await http(base(), 'POST', `/v1/sessions/${sid}/reply-targets`, [httpTarget(rx.at('/t66-old'))]);
  const running = await submitRun(base(), sid, { content: 'slow' });
  const queued = await submitRun(base(), sid, { content: 'hi there' });
  assert.equal(queued.status, 'queued');
  const put = await http(base(), 'PUT', `/v1/sessions/${sid}/reply-targets`, [httpTarget(rx.at('/t66-new'))]);
  assert.equal(put.status, 200, put.text);
  const later = await submitRun(base(), sid, { content: 'after the edit' });
  for (const r of [running, queued, later]) await waitForRun(base(), r.run_id);
  for (const r of [running, queued, later]) await deliveriesOf(r.run_id, settled);
  const byRun = (path: string) => rx.received.filter((x) => x.path === path).map((x) => x.body.run_id);
  assert.deepEqual(byRun('/t66-old').sort(), [running.run_id, queued.run_id].sort());
  assert.deepEqual(byRun('/t66-new'), [later.run_id]);
  // A run's explicit targets win over the defaults; an explicit empty list keeps it local.
  const own = await submitRun(base(), sid, {
    content: 'own',
    reply_targets: [httpTarget(rx.at('/t66-own'))],
  });
  const none = await submitRun(base(), sid, { content: 'none', reply_targets: [] });
  await waitForRun(base(), own.run_id);
  await waitForRun(base(), none.run_id);
  await deliveriesOf(own.run_id, settled);
  assert.deepEqual(byRun('/t66-own'), [own.run_id]);
  assert.equal((await http(base(), 'GET', `/v1/deliveries?run_id=${none.run_id}`)).body.length, 0);
});

test('api-collab #67: replaying a dead letter makes a new delivery; non-forced repeats return it; resolve marks handled', async () => {
  const sid = await createSession(base());
  rx.script('/t67', [{ status: 400 }]);
  await http(base(), 'POST', `/v1/sessions/${sid}/reply-targets`, [httpTarget(rx.at('/t67'))]);
  const run = await submitRun(base(), sid, { content: 'hi' });
  await waitForRun(base(), run.run_id);
  const [dead] = await deliveriesOf(run.run_id, settled);
  assert.equal(dead.status, 'dead_lettered', 'a 400 is terminal: no retry');
  assert.equal(dead.attempts, 1);
  assert.equal(dead.last_error_code, 'http_400');
  const dlq = (await http(base(), 'GET', `/v1/deliveries/dead-letter?run_id=${run.run_id}`)).body;
  assert.deepEqual(
    dlq.map((x: any) => x.delivery_id),
    [dead.delivery_id],
  );
  const before = (await http(base(), 'GET', '/v1/status')).body.delivery;
  assert.ok(before.dead_lettered >= 1 && before.unresolved_dead_lettered >= 1, JSON.stringify(before));
  const warn = (await http(base(), 'GET', '/v1/status')).body.health.warnings;
  assert.ok(
    warn.some((w: any) => w.code === 'delivery_dead_lettered'),
    JSON.stringify(warn),
  );

  const replay = await http(base(), 'POST', `/v1/deliveries/${dead.delivery_id}/replay`);
  assert.equal(replay.status, 200, replay.text);
  assert.notEqual(replay.body.delivery_id, dead.delivery_id);
  assert.equal(replay.body.replayed_from_delivery_id, dead.delivery_id);
  assert.equal(replay.body.status, 'pending');
  const again = await http(base(), 'POST', `/v1/deliveries/${dead.delivery_id}/replay`);
  assert.equal(
    again.body.delivery_id,
    replay.body.delivery_id,
    'a second non-forced replay returns the same replay',
  );
  const all = await deliveriesOf(run.run_id, (v) => v.length === 2 && settled(v));
  assert.equal(all.find((x) => x.delivery_id === replay.body.delivery_id).status, 'delivered');
  const original = (await http(base(), 'GET', `/v1/deliveries/${dead.delivery_id}`)).body;
  assert.equal(original.status, 'dead_lettered', 'the original stays dead-lettered');
  assert.equal(original.attempts, 1);
  const forced = await http(base(), 'POST', `/v1/deliveries/${dead.delivery_id}/replay?force=true`);
  assert.notEqual(forced.body.delivery_id, replay.body.delivery_id, 'force makes another');
  await deliveriesOf(run.run_id, (v) => v.length === 3 && settled(v));
  assert.equal(rx.received.filter((r) => r.path === '/t67' && r.status === 200).length, 2);

  // Replay and resolve apply to dead letters only; resolve keeps the entry and records the reason.
  assertProblem(
    await http(base(), 'POST', `/v1/deliveries/${replay.body.delivery_id}/replay`),
    409,
    'deliveries',
    'delivery_not_dead_lettered',
  );
  assertProblem(
    await http(base(), 'POST', '/v1/deliveries/dlv-nope/replay'),
    404,
    'deliveries',
    'delivery_not_found',
  );
  const resolved = await http(base(), 'POST', `/v1/deliveries/${dead.delivery_id}/resolve`, {
    reason: 'sent by hand',
  });
  assert.equal(resolved.status, 200, resolved.text);
  assert.equal(resolved.body.status, 'dead_lettered');
  assert.equal(resolved.body.resolution.reason, 'sent by hand');
  assertProblem(await http(base(), 'POST', `/v1/deliveries/${dead.delivery_id}/resolve`, {}), 400);
});

test('api-collab §8: 429 with Retry-After (seconds, HTTP date) and 5xx retry with backoff; exhausted retries dead-letter', async () => {
  const sid = await createSession(base());
  rx.script('/retry', [
    { status: 429, headers: { 'retry-after': '1' } },
    { status: 503, headers: { 'retry-after': new Date(Date.now() + 3500).toUTCString() } },
    { status: 500 },
  ]);
  await http(base(), 'POST', `/v1/sessions/${sid}/reply-targets`, [httpTarget(rx.at('/retry'))]);
  const run = await submitRun(base(), sid, { content: 'hi' });
  await waitForRun(base(), run.run_id);
  const [dv] = await deliveriesOf(run.run_id, settled, 15_000);
  // Three failures with MAX_ATTEMPTS=3: dead-lettered after the third.
  assert.equal(dv.status, 'dead_lettered');
  assert.equal(dv.attempts, 3);
  assert.equal(dv.last_error_code, 'http_500');
  const times = rx.received.filter((r) => r.path === '/retry').map((r) => r.at);
  assert.equal(times.length, 3);
  assert.ok(times[1]! - times[0]! >= 900, `Retry-After: 1 waited ${times[1]! - times[0]!} ms`);
  assert.ok(
    times[2]! - times[1]! >= 400,
    `the HTTP-date Retry-After was honoured (${times[2]! - times[1]!} ms)`,
  );

  // Retrying then delivered: 500, 429 without Retry-After (normal backoff), then 200.
  rx.script('/retry2', [{ status: 500 }, { status: 429 }]);
  await http(base(), 'POST', `/v1/sessions/${sid}/reply-targets`, [httpTarget(rx.at('/retry2'))]);
  const run2 = await submitRun(base(), sid, { content: 'hi' });
  await waitForRun(base(), run2.run_id);
  const [ok] = await deliveriesOf(run2.run_id, settled);
  assert.equal(ok.status, 'delivered');
  assert.equal(ok.attempts, 3);
  const keys = new Set(
    rx.received.filter((r) => r.path === '/retry2').map((r) => r.headers['idempotency-key']),
  );
  assert.deepEqual([...keys], [`kheish:${ok.delivery_id}`], 'every attempt carries the same key');
  const events = (await http(base(), 'GET', `/v1/runs/${run2.run_id}/events`)).body;
  const statuses = events
    .filter((e: any) => e.event.type === 'trace' && e.event.trace.kind === 'delivery_updated')
    .map((e: any) => e.event.trace.delivery.status);
  assert.deepEqual(statuses, ['pending', 'retrying', 'retrying', 'delivered']);
});

test('api-collab §8: a timed-out attempt is retried for a deduplicating receiver and parked for one that is not', async () => {
  const sid = await createSession(base());
  rx.script('/slow-dedupe', [{ status: 200, delay_ms: 1500 }]);
  rx.always('/slow-once', { status: 200, delay_ms: 1500 });
  await http(base(), 'POST', `/v1/sessions/${sid}/reply-targets`, [
    httpTarget(rx.at('/slow-dedupe')),
    { ...httpTarget(rx.at('/slow-once')), receiver_deduplicates: false },
  ]);
  const run = await submitRun(base(), sid, { content: 'hi' });
  await waitForRun(base(), run.run_id);
  const list = await deliveriesOf(run.run_id, (v) => v.length === 2 && settled(v), 15_000);
  const byTarget = (path: string) =>
    list.find((x) =>
      rx.received.some((r) => r.path === path && r.headers['idempotency-key'] === `kheish:${x.delivery_id}`),
    );
  const retried = byTarget('/slow-dedupe');
  assert.equal(retried?.status, 'delivered');
  assert.equal(retried?.attempts, 2, 'the first attempt timed out and was sent again');
  const parked = list.find((x) => x.status === 'dead_lettered');
  assert.ok(parked, JSON.stringify(list));
  assert.equal(parked.last_error_code, 'outcome_unknown');
  assert.equal(parked.needs_operator, true);
  assert.equal(parked.attempts, 1);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(rx.arrivals('/slow-once'), 1, 'not sent again without the operator');
  rx.always('/slow-once', null);
});

test('api-collab §8: replay-bulk (dry run, filters, force) and reset-backpressure (a long Retry-After waived)', async () => {
  const sid = await createSession(base());
  rx.always('/bulk', { status: 400 });
  await http(base(), 'POST', `/v1/sessions/${sid}/reply-targets`, [httpTarget(rx.at('/bulk'))]);
  const runs = [
    await submitRun(base(), sid, { content: 'a' }),
    await submitRun(base(), sid, { content: 'b' }),
  ];
  for (const r of runs) await waitForRun(base(), r.run_id);
  for (const r of runs) await deliveriesOf(r.run_id, settled);
  const dead = (await http(base(), 'GET', `/v1/deliveries/dead-letter?session_id=${sid}`)).body.map(
    (x: any) => x.delivery_id,
  );
  assert.equal(dead.length, 2);
  const dry = await http(base(), 'POST', '/v1/deliveries/replay-bulk', { session_id: sid, dry_run: true });
  assert.equal(dry.status, 200, dry.text);
  assert.deepEqual(dry.body, { dry_run: true, candidate_delivery_ids: dead, replays: [] });
  rx.always('/bulk', null);
  const bulk = (await http(base(), 'POST', '/v1/deliveries/replay-bulk', { session_id: sid })).body;
  assert.deepEqual(
    bulk.replays.map((x: any) => x.replayed_from_delivery_id),
    dead,
  );
  for (const r of runs) await deliveriesOf(r.run_id, (v) => v.length === 2 && settled(v));
  const again = (await http(base(), 'POST', '/v1/deliveries/replay-bulk', { session_id: sid })).body;
  assert.deepEqual(again.candidate_delivery_ids, [], 'already replayed: skipped without force');
  const forced = (
    await http(base(), 'POST', '/v1/deliveries/replay-bulk', { session_id: sid, force: true, limit: 1 })
  ).body;
  assert.equal(forced.replays.length, 1);
  assertProblem(await http(base(), 'POST', '/v1/deliveries/replay-bulk', { limit: 0 }), 400);

  // A target that asked for an hour's pause: reset-backpressure makes it due now.
  rx.script('/pause', [{ status: 503, headers: { 'retry-after': '3600' } }]);
  await http(base(), 'POST', `/v1/sessions/${sid}/reply-targets`, [httpTarget(rx.at('/pause'))]);
  const run = await submitRun(base(), sid, { content: 'c' });
  await waitForRun(base(), run.run_id);
  const [waiting] = await deliveriesOf(run.run_id, (v) => v[0]?.status === 'retrying');
  assert.ok(waiting.next_attempt_at_ms - Date.now() > 3_000_000, 'Retry-After 3600 s honoured');
  assertProblem(
    await http(base(), 'POST', '/v1/deliveries/backpressure/reset', {}),
    400,
    'deliveries',
    'invalid_request',
  );
  const plan = (
    await http(base(), 'POST', '/v1/deliveries/backpressure/reset', {
      target_digest: waiting.target_digest,
      dry_run: true,
    })
  ).body;
  assert.deepEqual(plan, { dry_run: true, reset_count: 1, target_digests: [waiting.target_digest] });
  const reset = await http(base(), 'POST', '/v1/deliveries/backpressure/reset', {
    target_digest: waiting.target_digest,
  });
  assert.equal(reset.body.reset_count, 1, reset.text);
  const [done] = await deliveriesOf(run.run_id, settled);
  assert.equal(done.status, 'delivered');
  assert.equal(done.attempts, 2);
});

test('api-core §3.14: GET /v1/deliveries filters and paginates; metrics show the policy; the audit records each attempt', async () => {
  const page = await http(base(), 'GET', '/v1/deliveries?page=true&limit=2');
  assert.equal(page.status, 200, page.text);
  assert.equal(page.body.items.length, 2);
  assert.equal(page.body.pagination.order, 'delivery_time_asc,delivery_id_asc');
  assert.ok(page.body.pagination.has_more);
  const next = await http(
    base(),
    'GET',
    `/v1/deliveries?page=true&limit=2&cursor=${page.body.pagination.next_cursor}`,
  );
  assert.notEqual(next.body.items[0].delivery_id, page.body.items[1].delivery_id);
  const delivered = (await http(base(), 'GET', '/v1/deliveries?status=delivered&plugin=http')).body;
  assert.ok(
    delivered.length > 0 && delivered.every((x: any) => x.status === 'delivered' && x.plugin === 'http'),
  );
  assertProblem(await http(base(), 'GET', '/v1/deliveries?status=lost'), 400);
  const metrics = (await http(base(), 'GET', '/v1/runtime/deliveries/metrics')).body;
  assert.deepEqual(metrics.retry_policy, {
    initial_retry_ms: 50,
    max_retry_ms: 200,
    max_retry_after_ms: 3_600_000,
    max_attempts: 3,
  });
  assert.ok(metrics.delivered >= 1);
  assert.ok(metrics.plugins.some((p: any) => p.plugin === 'http' && p.receiver_deduplicates === true));
  const runId = delivered[0].run_id;
  const actions = (await http(base(), 'GET', `/v1/runs/${runId}/external-actions`)).body;
  const list = Array.isArray(actions) ? actions : (actions.items ?? actions.actions);
  const mine = list.filter((a: any) => a.kind === 'output_delivery');
  assert.ok(mine.length >= 2, 'an attempt leaves a started and a completed record');
  assert.ok(
    !JSON.stringify(mine).includes('127.0.0.1'),
    'the audit shows the target digest, not the address',
  );
});
