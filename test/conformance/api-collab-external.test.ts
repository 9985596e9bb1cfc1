// api-collab #58 (external), #59, #60, #61, #62, #65: an external connector in remote_http mode
// against the Python standard-library sidecar (test/fixtures/external-sidecar.py), which follows
// the protocol text and shares no code with the daemon. Runs on SQLite and, with
// KHEISH_TEST_STORE=postgres, on PostgreSQL.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { BIN, http, startDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { eventually, type RemoteSidecar, startRemoteSidecar } from '../helpers/external-sidecar.ts';
import { assertProblem } from './support.ts';

const KEY = spawnSync(BIN, ['secrets', 'generate'], { encoding: 'utf8' }).stdout.trim();
const SHARED = `shared-${Math.random().toString(36).slice(2)}-token`;
let d: TestDaemon;
let sidecar: RemoteSidecar;

const call = (method: string, path: string, body?: unknown, token: string | null = SHARED) =>
  http(d.url, method, path, body, token === null ? {} : { authorization: `Bearer ${token}` });

const send = (name: string, event: Record<string, unknown>, token: string | null = SHARED) =>
  call('POST', `/v1/connectors/external/${name}/events`, { protocol_version: 2, ...event }, token);

async function putConnector(name: string, body: Record<string, unknown>) {
  const res = await http(d.url, 'PUT', `/v1/runtime/connectors/external/${name}`, {
    mode: 'remote_http',
    base_url: sidecar.url,
    allow_private_network: true,
    shared_token: { value: SHARED },
    include_self_output: true,
    session_policy: { create_if_missing: true },
    ...body,
  });
  assert.equal(res.status, 200, res.text);
  return res.body;
}

const runsOf = async (sessionId: string) => {
  const res = await http(d.url, 'GET', `/v1/runs?session_id=${encodeURIComponent(sessionId)}`);
  return (Array.isArray(res.body) ? res.body : res.body.items) as Array<{ run_id: string }>;
};

const deliveriesOf = async (runId: string) => {
  const res = await http(d.url, 'GET', `/v1/deliveries?run_id=${encodeURIComponent(runId)}`);
  return (Array.isArray(res.body) ? res.body : res.body.items) as Array<Record<string, any>>;
};

before(async () => {
  d = await startDaemon({
    script: { default: { turns: [{ text: 'pong from the agent' }] } },
    env: {
      KHEISH_AUTH_STORE_MASTER_KEY: KEY,
      KHEISH_DELIVERY_INITIAL_RETRY_MS: '100',
      KHEISH_DELIVERY_MAX_RETRY_MS: '300',
    },
  });
  sidecar = await startRemoteSidecar({ daemonUrl: d.url, connector: 'side', sharedToken: SHARED });
  await putConnector('side', { ingress_events_per_second: 1000 });
});

after(async () => {
  await sidecar?.stop();
  await d?.kill();
  const logs = d?.logs() ?? '';
  await d?.cleanup();
  assert.ok(!logs.includes(SHARED), 'the shared token never reaches the daemon log');
});

test('api-collab #59: content together with input_items is rejected, and so is protocol_version 3; no run', async () => {
  const mixed = await send('side', {
    event_id: 'mixed-1',
    routing_key: 'r59',
    content: 'hello',
    input_items: [{ type: 'text', text: 'hello' }],
  });
  assertProblem(mixed, 400, 'connectors', 'invalid_input_shape');
  const v3 = await send('side', { protocol_version: 3, event_id: 'v3-1', routing_key: 'r59', content: 'hi' });
  assertProblem(v3, 400, 'connectors', 'unsupported_protocol_version');
  // Neither left a receipt: the same ids with a valid body are new events.
  const ok = await send('side', { event_id: 'mixed-1', routing_key: 'r59', content: 'hello' });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.body.status, 'accepted');
  assert.equal((await runsOf(ok.body.session_id)).length, 1);
  // Protocol 1 is still accepted.
  const v1 = await send('side', { protocol_version: 1, event_id: 'v1-1', routing_key: 'r59', content: 'hi' });
  assert.equal(v1.body.status, 'accepted', v1.text);
});

test('delivery asset download: only assets of a pending delivery of that connector, with the shared token', async () => {
  const up = await http(d.url, 'POST', '/v1/assets', {
    file_name: 'note.txt',
    media_type: 'text/plain',
    content_base64: Buffer.from('not attached to any delivery\n').toString('base64'),
  });
  assert.ok(up.status === 200 || up.status === 201, up.text);
  const path = `/v1/connectors/external/side/deliveries/dlv-none/assets/${up.body.asset_id}/raw`;
  assertProblem(await call('GET', path), 404, 'connectors', 'delivery_asset_not_found');
  assertProblem(await call('GET', path, undefined, null), 401);
  assertProblem(await call('GET', path, undefined, 'wrong-token'), 401);
});

test('ingress auth: the shared token, never the control-plane token; wrong or missing is 401', async () => {
  assertProblem(await send('side', { event_id: 'auth-1', routing_key: 'a', content: 'x' }, null), 401);
  assertProblem(await send('side', { event_id: 'auth-1', routing_key: 'a', content: 'x' }, 'wrong'), 401);
  assertProblem(await send('nope', { event_id: 'auth-1', routing_key: 'a', content: 'x' }), 404);
});

test('api-collab #60: a duplicate event_id returns status duplicate with the original session and run ids', async () => {
  const first = await send('side', { event_id: 'dup-1', routing_key: 'orders', content: 'first' });
  assert.equal(first.body.status, 'accepted', first.text);
  assert.match(first.body.session_id, /^external:side:[0-9a-f]{16}$/);
  // Routing changes between the two submissions: the replay still answers the original ids.
  await putConnector('side', { fixed_session_id: 'somewhere-else' });
  const again = await send('side', { event_id: 'dup-1', routing_key: 'orders', content: 'first' });
  await putConnector('side', { fixed_session_id: null });
  assert.equal(again.status, 200, again.text);
  assert.deepEqual(again.body, { ...first.body, status: 'duplicate' });
  assert.equal((await runsOf(first.body.session_id)).length, 1, 'no second run');
  // A conflicting replay is refused, and still answers the original ids (§6.8), in a batch too.
  const conflict = await send('side', { event_id: 'dup-1', routing_key: 'orders', content: 'changed' });
  assert.equal(conflict.status, 200, conflict.text);
  assert.deepEqual(conflict.body, { ...first.body, status: 'rejected' });
  const batch = await call('POST', '/v1/connectors/external/side/events/batch', {
    protocol_version: 2,
    events: [{ event_id: 'dup-1', routing_key: 'orders', content: 'changed again' }],
  });
  assert.equal(batch.status, 200, batch.text);
  const [item] = batch.body.results;
  assert.deepEqual(
    [item.status, item.code, item.session_id, item.run_id],
    ['rejected', 'ingress_idempotency_conflict', first.body.session_id, first.body.run_id],
  );
  assert.equal((await runsOf(first.body.session_id)).length, 1, 'still one run');
});

test('api-collab #62: the same thread.path with different routing keys lands in one session', async () => {
  const path = ['guild-1', 'channel-2', 'thread-3'];
  const a = await send('side', { event_id: 't-1', thread: { path }, routing_key: 'k-one', content: 'a' });
  const b = await send('side', { event_id: 't-2', thread: { path }, routing_key: 'k-two', content: 'b' });
  assert.equal(a.body.status, 'accepted', a.text);
  assert.equal(b.body.status, 'accepted', b.text);
  assert.equal(a.body.session_id, b.body.session_id);
  const c = await send('side', {
    event_id: 't-3',
    thread: { path: ['other'] },
    routing_key: 'k-one',
    content: 'c',
  });
  assert.notEqual(c.body.session_id, a.body.session_id, 'another path is another conversation');
});

test('api-collab #61: a batch answers one result per event in order; rate-limited items carry retry_after_ms', async () => {
  await putConnector('limited', { ingress_events_per_second: 1 });
  const events = Array.from({ length: 4 }, (_, i) => ({
    event_id: `b-${i}`,
    routing_key: 'mailbox:ops',
    content: `mail ${i}`,
  }));
  const res = await call('POST', '/v1/connectors/external/limited/events/batch', {
    protocol_version: 2,
    events: [
      ...events.slice(0, 2),
      { event_id: 'bad', content: 'x', input_items: [{ type: 'text', text: 'y' }] },
      ...events.slice(2),
    ],
  });
  assert.equal(res.status, 200, res.text);
  const r = res.body.results as Array<Record<string, any>>;
  assert.equal(r.length, 5);
  assert.deepEqual(
    r.map((x) => x.event_id),
    ['b-0', 'b-1', 'bad', 'b-2', 'b-3'],
  );
  assert.equal(r[0]!.status, 'accepted');
  assert.equal(r[2]!.status, 'rejected');
  const limited = r.filter((x) => x.status === 'rate_limited');
  assert.ok(limited.length >= 1, `some items are rate limited: ${res.text}`);
  for (const x of limited) assert.ok(Number.isInteger(x.retry_after_ms) && x.retry_after_ms > 0);
  // The accepted ones created runs; the rate-limited ones did not and can be sent again later.
  assert.equal((await runsOf(r[0]!.session_id)).length, r.filter((x) => x.status === 'accepted').length);
});

test('api-collab #58 (external): single-event overload is 429 with Retry-After', async () => {
  await putConnector('limited1', { ingress_events_per_second: 1 });
  let limited: Awaited<ReturnType<typeof send>> | null = null;
  for (let i = 0; i < 10 && !limited; i++) {
    const res = await send('limited1', { event_id: `o-${i}`, routing_key: 'busy', content: `e${i}` });
    if (res.status === 429) limited = res;
    else assert.equal(res.status, 200, res.text);
  }
  assert.ok(limited, 'a burst over ingress_events_per_second meets a 429');
  assertProblem(limited!, 429);
  assert.match(limited!.headers.get('retry-after') ?? '', /^\d+$/);
});

test('api-collab #65: delivery sends Idempotency-Key and the protocol header; committed with 500 is not committed', async () => {
  // Event → run → answer delivered to the sidecar's /deliver, once.
  const ev = await sidecar.emit({
    event_id: 'deliver-1',
    routing_key: 'chat-65',
    content: 'ping',
    reply_route: '{"channel":"c65"}',
  });
  assert.equal(ev.body.status, 'accepted', JSON.stringify(ev));
  const runId = ev.body.run_id as string;
  const committed = await eventually(async () => {
    const s = await sidecar.state();
    return s.committed.find((c) => c.reply_route === '{"channel":"c65"}');
  }, 'the answer at the sidecar');
  assert.match(committed.content, /pong from the agent/);
  const state = await sidecar.state();
  const attempt = state.attempts.find((a) => a.delivery_id === committed.delivery_id)!;
  assert.equal(attempt.idempotency_key, `kheish:${committed.delivery_id}`);
  assert.equal(attempt.protocol_header, '1');
  assert.equal(attempt.authorization_ok, true);
  assert.equal(attempt.body.protocol_version, 1);
  assert.equal(attempt.body.conversation.run_id, runId);
  const views = await eventually(async () => {
    const v = await deliveriesOf(runId);
    return v.length && v.every((x) => x.status === 'delivered') ? v : undefined;
  }, 'the delivery marked delivered');
  assert.equal(views.length, 1);

  // `committed` with HTTP 500: retried, never marked delivered.
  await sidecar.setMode('committed_500');
  const ev2 = await sidecar.emit({
    event_id: 'deliver-2',
    routing_key: 'chat-65b',
    content: 'ping',
    reply_route: 'r2',
  });
  const runId2 = ev2.body.run_id as string;
  const retried = await eventually(async () => {
    const s = await sidecar.state();
    const mine = s.attempts.filter((a) => a.body.conversation?.run_id === runId2);
    return mine.length >= 2 ? mine : undefined;
  }, 'a second attempt after committed+500');
  assert.ok(retried.every((a) => a.mode === 'committed_500'));
  const view = (await deliveriesOf(runId2))[0]!;
  assert.notEqual(view.status, 'delivered', JSON.stringify(view));
  // Back to normal: the next attempt commits, and the delivery is delivered exactly once.
  await sidecar.setMode('ok');
  await eventually(
    async () => (await deliveriesOf(runId2))[0]?.status === 'delivered',
    'delivered after recovery',
  );
  const s2 = await sidecar.state();
  assert.equal(s2.committed.filter((c) => c.reply_route === 'r2').length, 1);
});
