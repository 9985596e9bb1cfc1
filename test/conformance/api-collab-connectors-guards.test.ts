// Connectors, the edges (api-collab §6.2–§6.4, ops-runtime #25, §5.7), on a daemon with HTTP auth
// on: ingress needs no control-plane token and never accepts it in place of the connector's; bad
// input of every kind is a typed problem that leaves no run and no receipt; secrets never show in
// views, logs, events, journals or status; session_policy conflicts are refused, never rebound;
// delete guards. Runs on SQLite, and on PostgreSQL with KHEISH_TEST_STORE=postgres.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { namesConnector } from '../../src/features/connectors/references.ts';
import { BIN, collectSse, http, startDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { queryState } from '../helpers/state-query.ts';
import { assertProblem } from './support.ts';

const KEY = spawnSync(BIN, ['secrets', 'generate'], { encoding: 'utf8' }).stdout.trim();
const ADMIN = `admin-${Math.random().toString(36).slice(2)}`;
const BEARER = `conn-bearer-${Math.random().toString(36).slice(2)}-secret`;
const HMAC = `conn-hmac-${Math.random().toString(36).slice(2)}-secret`;
const admin = { authorization: `Bearer ${ADMIN}` };

let d: TestDaemon;
const call = (method: string, path: string, body?: unknown) => http(d.url, method, path, body, admin);
const put = (name: string, body: unknown) => call('PUT', `/v1/runtime/connectors/http/${name}`, body);
const ingest = (name: string, body: unknown, headers: Record<string, string> = {}) =>
  http(d.url, 'POST', `/v1/connectors/http/${name}`, body, headers);
const bearer = { authorization: `Bearer ${BEARER}` };

before(async () => {
  d = await startDaemon({
    script: { default: { turns: [{ text: 'ok' }] } },
    env: { KHEISH_AUTH_STORE_MASTER_KEY: KEY },
    args: ['--http-auth-mode', 'bearer', '--http-admin-token', ADMIN],
  });
  const res = await put('edge', {
    bearer_token: { value: BEARER },
    hmac_secret: { value: HMAC },
    ingress_events_per_second: 10_000,
    session_policy: { create_if_missing: true },
  });
  assert.equal(res.status, 200, res.text);
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
});

const countFor = async (connector: string) => {
  const receipts = await queryState<{ n: number }>(
    d,
    'SELECT COUNT(*) AS n FROM connector_receipts WHERE connector = ?',
    [connector],
  );
  const runs = await queryState<{ n: number }>(d, "SELECT COUNT(*) AS n FROM runs WHERE kind = 'input'");
  return { receipts: Number(receipts[0]!.n), runs: Number(runs[0]!.n) };
};

test('ops-runtime §5.7: ingress takes no control-plane token, the admin token is no connector bearer, CRUD needs the admin token', async () => {
  const ok = await ingest(
    'edge',
    { content: 'hi', idempotency_key: 'auth-1', session_id: 'edge-auth' },
    bearer,
  );
  assert.equal(ok.status, 202, ok.text);
  assertProblem(
    await ingest('edge', { content: 'hi', idempotency_key: 'auth-2', session_id: 'edge-auth' }, admin),
    401,
    'connectors',
    'ingress_unauthorized',
  );
  assertProblem(await http(d.url, 'GET', '/v1/runtime/connectors'), 401, 'auth');
  assertProblem(
    await http(d.url, 'PUT', '/v1/runtime/connectors/http/x', { actor_id: 'x' }, bearer),
    401,
    'auth',
  );
  assert.equal((await call('GET', '/v1/runtime/connectors')).status, 200);
});

test('issue 16 bad input: every malformed ingress is a typed problem with no run and no receipt', async () => {
  const before = await countFor('edge');
  const raw = (body: string, headers: Record<string, string> = {}) =>
    http(d.url, 'POST', '/v1/connectors/http/edge', body, {
      'content-type': 'application/json',
      ...bearer,
      ...headers,
    });
  const cases: Array<[string, Promise<any>, number, string]> = [
    ['not JSON', raw('{"content": "x", '), 400, 'invalid_ingress_payload'],
    ['a JSON array', raw('[1,2]'), 400, 'invalid_ingress_payload'],
    ['no body', raw(''), 400, 'invalid_ingress_payload'],
    [
      'unknown field',
      ingest('edge', { content: 'x', idempotency_key: 'bad-1', colour: 'red' }, bearer),
      400,
      'invalid_ingress_payload',
    ],
    [
      'wrong type',
      ingest('edge', { content: 'x', idempotency_key: 'bad-2', binding_keys: 'k' }, bearer),
      400,
      'invalid_ingress_payload',
    ],
    [
      'content and input_items',
      ingest(
        'edge',
        {
          content: 'x',
          input_items: [{ type: 'text', text: 'y' }],
          idempotency_key: 'bad-3',
          session_id: 'edge-bad',
        },
        bearer,
      ),
      400,
      'invalid_input',
    ],
    [
      'no input',
      ingest('edge', { idempotency_key: 'bad-4', session_id: 'edge-bad' }, bearer),
      400,
      'invalid_input',
    ],
    [
      'empty key',
      ingest('edge', { content: 'x', idempotency_key: ' ', session_id: 'edge-bad' }, bearer),
      400,
      'invalid_idempotency_key',
    ],
    [
      'header and body keys differ',
      ingest(
        'edge',
        { content: 'x', idempotency_key: 'bad-5', session_id: 'edge-bad' },
        { ...bearer, 'idempotency-key': 'other' },
      ),
      400,
      'invalid_idempotency_key',
    ],
    [
      'no session at all',
      ingest('edge', { content: 'x', idempotency_key: 'bad-6' }, bearer),
      400,
      'ingress_session_unresolved',
    ],
    [
      'oversized',
      ingest(
        'edge',
        { content: 'x'.repeat(9 * 1024 * 1024), idempotency_key: 'bad-7', session_id: 'edge-bad' },
        bearer,
      ),
      413,
      'payload_too_large',
    ],
    [
      'unknown connector',
      ingest('nobody', { content: 'x', idempotency_key: 'bad-8' }, bearer),
      404,
      'connector_not_found',
    ],
  ];
  for (const [name, pending, status, code] of cases) {
    const res = await pending;
    assertProblem(res, status, undefined, code, name);
  }
  assert.deepEqual(await countFor('edge'), before, 'no run and no receipt');
  // Nothing was reserved: the keys of refused requests are free for a good request.
  const good = await ingest(
    'edge',
    { content: 'now fine', idempotency_key: 'bad-3', session_id: 'edge-bad' },
    bearer,
  );
  assert.equal(good.status, 202, good.text);
  assert.equal(good.body.status, 'accepted');
});

test('ops-runtime #25 (connectors): a secret slot a connector uses cannot be deleted (409), and can once the connector is gone', async () => {
  assert.equal((await put('slot-user', { bearer_token: { value: 'slot-user-token' } })).status, 200);
  const slot = 'connectors.http.slot-user.bearer_token';
  assertProblem(await call('DELETE', `/v1/runtime/secrets/${slot}`), 409);
  const del = await call('DELETE', '/v1/runtime/connectors/http/slot-user');
  assert.equal(del.status, 200, del.text);
  assert.equal(del.body.deleted, true);
  assert.equal((await call('DELETE', `/v1/runtime/secrets/${slot}`)).status, 200);
  assertProblem(
    await call('DELETE', '/v1/runtime/connectors/http/slot-user'),
    404,
    'connectors',
    'connector_not_found',
  );
  // A secret_ref must name an existing slot.
  assertProblem(
    await put('slot-user', { bearer_token: { secret_ref: 'no.such.slot' } }),
    400,
    'connectors',
    'invalid_connector_secret',
  );
});

test('api-collab §6.3 session_policy: unknown persona refused; missing session without create_if_missing refused; a conflicting session is never rebound', async () => {
  assertProblem(
    await put('pol', { bearer_token: { value: BEARER }, session_policy: { persona_id: 'nobody' } }),
    400,
    'connectors',
    'invalid_session_policy',
  );
  const persona = await call('POST', '/v1/personas', {
    persona_id: 'triage',
    display_name: 'Triage',
    soul: 'Sort alerts.',
  });
  assert.equal(persona.status, 201, persona.text);
  assert.equal(
    (
      await put('pol', {
        bearer_token: { value: BEARER },
        session_policy: { create_if_missing: true, persona_id: 'triage' },
      })
    ).status,
    200,
  );
  const created = await ingest(
    'pol',
    { content: 'hi', idempotency_key: 'pol-1', session_id: 'pol-new' },
    bearer,
  );
  assert.equal(created.status, 202, created.text);
  assert.equal((await call('GET', '/v1/sessions/pol-new')).body.persona?.persona_id, 'triage');

  assert.equal((await call('POST', '/v1/sessions', { session_id: 'pol-plain' })).status, 201);
  assertProblem(
    await ingest('pol', { content: 'hi', idempotency_key: 'pol-2', session_id: 'pol-plain' }, bearer),
    409,
    'connectors',
    'session_policy_conflict',
  );
  const plain = (await call('GET', '/v1/sessions/pol-plain')).body;
  assert.ok(!plain.persona, 'not rebound');

  assert.equal((await put('nopol', { bearer_token: { value: BEARER } })).status, 200);
  assertProblem(
    await ingest('nopol', { content: 'hi', idempotency_key: 'np-1', session_id: 'never-made' }, bearer),
    404,
    'connectors',
    'ingress_session_missing',
  );
  assertProblem(await call('GET', '/v1/sessions/never-made'), 404);
});

test('api-collab §6.2 delete guards: a connector a stored schedule names cannot be deleted (409)', async () => {
  assert.equal((await put('guarded', { bearer_token: { value: BEARER } })).status, 200);
  assert.equal((await call('POST', '/v1/sessions', { session_id: 'guard-s' })).status, 201);
  const schedule = await call('POST', '/v1/schedules', {
    name: 'guard',
    target_session_id: 'guard-s',
    cadence: { type: 'interval', every_seconds: 3600 },
    request: {
      content: 'tick',
      reply_targets: [
        { plugin: 'http', address: JSON.stringify({ connector: 'guarded', url: 'https://example.com/x' }) },
      ],
    },
  });
  assert.equal(schedule.status, 201, schedule.text);
  assertProblem(
    await call('DELETE', '/v1/runtime/connectors/http/guarded'),
    409,
    'connectors',
    'connector_in_use',
  );
  assert.equal((await call('POST', `/v1/schedules/${schedule.body.schedule_id}/cancel`)).status, 200);
  assert.equal((await call('DELETE', '/v1/runtime/connectors/http/guarded')).status, 200);
  // The reference forms the guard recognizes, raw handles and structured requests alike.
  assert.ok(
    namesConnector([{ plugin: 'telegram', address: '{"connector":"bot","chat_id":1}' }], 'telegram', 'bot'),
  );
  assert.ok(namesConnector({ x: [{ type: 'slack', connector: 'ops', channel: 'C1' }] }, 'slack', 'ops'));
  assert.ok(!namesConnector([{ plugin: 'telegram', address: '{"connector":"bot"}' }], 'slack', 'bot'));
  assert.ok(!namesConnector([{ plugin: 'http', address: 'https://example.com' }], 'http', 'example'));
});

test('issue 16: connector secrets never appear in views, logs, events, journals or status', async () => {
  const res = await ingest(
    'edge',
    { content: 'leak check', idempotency_key: 'leak-1', session_id: 'edge-leak' },
    bearer,
  );
  assert.equal(res.status, 202, res.text);
  for (let i = 0; i < 200; i++) {
    if ((await call('GET', `/v1/runs/${res.body.run_id}`)).body.status === 'completed') break;
    await new Promise((r) => setTimeout(r, 25));
  }
  // Wrong secrets presented by callers are not echoed either.
  await ingest(
    'edge',
    { content: 'x', idempotency_key: 'leak-2' },
    { authorization: `Bearer ${BEARER}-wrong` },
  );
  const surfaces = [
    (await call('GET', '/v1/runtime/connectors')).text,
    (await call('GET', '/v1/runtime/connectors/http/edge')).text,
    (await call('GET', '/v1/status')).text,
    (await call('GET', '/v1/runtime/secrets')).text,
    (await call('GET', `/v1/runs/${res.body.run_id}`)).text,
    (await call('GET', `/v1/runs/${res.body.run_id}/events`)).text,
    (await call('GET', '/v1/sessions/edge-leak/events')).text,
    d.logs(),
    JSON.stringify(await queryState(d, 'SELECT * FROM journal')),
    JSON.stringify(await queryState(d, 'SELECT * FROM events')),
    JSON.stringify(await queryState(d, 'SELECT * FROM connectors')),
    JSON.stringify(await queryState(d, 'SELECT * FROM runs')),
  ];
  for (const [i, text] of surfaces.entries())
    for (const secret of [BEARER, HMAC])
      assert.ok(!text.includes(secret), `surface ${i} leaks a connector secret`);
});

test('issue 16 status and events: /v1/status counts connectors and ingress outcomes; changes append connector_updated', async () => {
  const status = (await call('GET', '/v1/status')).body.connectors;
  assert.equal(status.file, 0);
  assert.ok(status.daemon >= 3, JSON.stringify(status));
  assert.ok(status.ingress.accepted >= 3, JSON.stringify(status));
  assert.ok(status.ingress.refused >= 10, JSON.stringify(status));
  assert.equal(typeof status.ingress.duplicate, 'number');
  assert.equal(typeof status.ingress.rate_limited, 'number');
  const { frames } = await collectSse(`${d.url}/v1/events/stream?cursor=0`, {
    headers: admin,
    until: (f) => f.some((x) => x.event === 'connector_updated' && x.data.action === 'deleted'),
  });
  const changes = frames.filter((f) => f.event === 'connector_updated').map((f) => f.data);
  assert.ok(changes.some((c) => c.kind === 'http' && c.name === 'edge' && c.action === 'created'));
  assert.ok(changes.some((c) => c.name === 'slot-user' && c.action === 'deleted'));
  for (const c of changes) assert.deepEqual(Object.keys(c).sort(), ['action', 'kind', 'name', 'type']);
});

test('issue 16 files: an inline attachment of an event is stored as an asset the run references; a replay imports nothing new', async () => {
  const body = {
    content: 'see the attached note',
    attachments: [
      {
        type: 'inline_asset',
        file_name: 'note.txt',
        media_type: 'text/plain',
        content_base64: Buffer.from('disk 91% full on db-1\n').toString('base64'),
      },
    ],
    idempotency_key: 'file-1',
    session_id: 'edge-files',
  };
  const first = await ingest('edge', body, bearer);
  assert.equal(first.status, 202, first.text);
  const run = (await call('GET', `/v1/runs/${first.body.run_id}`)).body;
  const att = run.input_attachments as any[];
  assert.equal(att.length, 1, JSON.stringify(run));
  assert.equal(att[0].type, 'asset_reference');
  const asset = (await call('GET', `/v1/assets/${att[0].asset_id}`)).body;
  assert.equal(asset.file_name, 'note.txt');
  const assets = (await call('GET', '/v1/assets')).body.length;
  const again = await ingest('edge', body, bearer);
  assert.equal(again.status, 200, again.text);
  assert.equal(again.body.run_id, first.body.run_id);
  assert.equal((await call('GET', '/v1/assets')).body.length, assets, 'the replay imported nothing');
});
