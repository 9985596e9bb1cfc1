// Live model routes (ops-runtime §4.6 runtime route add/remove, §11, §19 gap 11; docs/decisions.md
// #620-#629): POST/DELETE /v1/runtime/routes as revisioned runtime changes, each refusal typed
// problem+json, durable across a restart and, on PostgreSQL, applied on another replica through
// `runtime_updated`. Both stores (KHEISH_TEST_STORE=postgres).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { generateMasterKeyText } from '../../src/secrets/crypto.ts';
import { startOpenAiServer } from '../fixtures/providers/openai-server.ts';
import { http, startDaemon, startReplica, type TestDaemon, waitForRun } from '../helpers/daemon.ts';
import { testStoreIsPostgres } from '../helpers/pg-schema.ts';
import { assertProblem } from './support.ts';

const KEY = `sk-conf-${Math.random().toString(36).slice(2)}-SECRET`;
const env = { KHEISH_AUTH_STORE_MASTER_KEY: generateMasterKeyText() };
let d: TestDaemon;
const base = () => d.url;

before(async () => {
  d = await startDaemon({ script: { default: { turns: [{ text: 'ok' }] } }, env });
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
});

const gpt = {
  route_id: 'gpt',
  provider: 'openai',
  model: 'gpt-5.4',
  base_url: 'http://127.0.0.1:9',
  api_key: KEY,
};

test('ops-runtime #9, #34: POST /v1/runtime/routes adds a ready route as a new revision, never showing the key', async () => {
  const before = (await http(base(), 'GET', '/v1/runtime')).body.config.revision as number;
  const added = await http(base(), 'POST', '/v1/runtime/routes', gpt);
  assert.equal(added.status, 201, added.text);
  assert.equal(added.body.route.readiness, 'ok');
  assert.equal(added.body.route.matrix_version, 2);
  assert.equal(added.body.default_route, 'local', 'a file default stays the default');
  const runtime = (await http(base(), 'GET', '/v1/runtime')).body;
  assert.equal(runtime.config.revision, before + 1);
  const routes = (await http(base(), 'GET', '/v1/runtime/routes')).body as Array<Record<string, unknown>>;
  assert.deepEqual(
    routes.map((r) => [r.route_id, r.source]),
    [
      ['local', 'routes_file'],
      ['gpt', 'runtime_api'],
    ],
  );
  const revisions = await http(base(), 'GET', '/v1/runtime/revisions');
  assert.equal(revisions.body.revisions[0].setting, 'routes');
  for (const text of [revisions.text, JSON.stringify(runtime), d.logs()]) assert.ok(!text.includes(KEY));
  const slot = await http(base(), 'GET', '/v1/runtime/secrets/routes.gpt.api_key');
  assert.equal(slot.status, 200);
  assert.ok(!slot.text.includes(KEY));
  // The slot is in use: the secrets API refuses to delete it under the route.
  assertProblem(
    await http(base(), 'DELETE', '/v1/runtime/secrets/routes.gpt.api_key'),
    409,
    'runtime',
    'secret_in_use',
  );
});

test('ops-runtime #4, #7: invalid routes are 400 routes/invalid_route and change nothing; duplicates 409', async () => {
  const revision = (await http(base(), 'GET', '/v1/runtime')).body.config.revision;
  const bad = [
    { ...gpt, route_id: 'a/b' },
    { ...gpt, route_id: 'has space' },
    { ...gpt, route_id: 'x1', provider: 'nope' },
    { ...gpt, route_id: 'x2', base_url: 'http://user:pw@host/' },
    { ...gpt, route_id: 'x3', base_url: 'ftp://host' },
    { route_id: 'x4', provider: 'anthropic' },
    { route_id: 'x5', provider: 'openai_compatible', model: 'llama' },
  ];
  for (const body of bad)
    assertProblem(await http(base(), 'POST', '/v1/runtime/routes', body), 400, 'routes', 'invalid_route');
  assertProblem(
    await http(base(), 'POST', '/v1/runtime/routes', { ...gpt, route_id: 'local' }),
    409,
    'routes',
    'route_already_exists',
  );
  assertProblem(
    await http(base(), 'POST', '/v1/runtime/routes', { ...gpt, route_id: 'x6', expected_revision: 0 }),
    409,
    'runtime',
    'runtime_revision_conflict',
  );
  assert.equal((await http(base(), 'GET', '/v1/runtime')).body.config.revision, revision);
  const secrets = await http(base(), 'GET', '/v1/runtime/secrets');
  assert.ok(!secrets.text.includes('routes.x6.api_key'), 'a refused add leaves no key slot');
});

test('ops-runtime #34: concurrent adds and removes each land as their own revision', async () => {
  const ids = ['c1', 'c2', 'c3', 'c4', 'c5'];
  const adds = await Promise.all(
    ids.map((id) => http(base(), 'POST', '/v1/runtime/routes', { ...gpt, route_id: id })),
  );
  for (const a of adds) assert.equal(a.status, 201, a.text);
  const listed = (await http(base(), 'GET', '/v1/runtime/routes')).body as Array<{ route_id: string }>;
  for (const id of ids)
    assert.ok(
      listed.some((r) => r.route_id === id),
      `${id} is listed`,
    );
  const dels = await Promise.all(ids.map((id) => http(base(), 'DELETE', `/v1/runtime/routes/${id}`)));
  for (const r of dels) assert.equal(r.status, 200, r.text);
  const left = (await http(base(), 'GET', '/v1/runtime/routes')).body as Array<{ route_id: string }>;
  assert.deepEqual(
    left.map((r) => r.route_id),
    ['local', 'gpt'],
  );
});

test('ops-runtime #12: DELETE refuses a route while a run pinned to it is live', async () => {
  const provider = await startOpenAiServer();
  try {
    const added = await http(base(), 'POST', '/v1/runtime/routes', {
      ...gpt,
      route_id: 'busy',
      base_url: provider.origin,
    });
    assert.equal(added.status, 201, added.text);
    provider.enqueue({ kind: 'hang', deltas: ['thinking'] });
    const session = (await http(base(), 'POST', '/v1/sessions', {})).body.session_id as string;
    const run = await http(base(), 'POST', `/v1/sessions/${session}/runs`, {
      content: 'hi',
      provider: 'busy',
    });
    assert.equal(run.status, 202, run.text);
    assertProblem(await http(base(), 'DELETE', '/v1/runtime/routes/busy'), 409, 'routes', 'route_in_use');
    const cancel = await http(base(), 'POST', `/v1/sessions/${session}/interrupt`, {});
    assert.ok(cancel.status < 300, cancel.text);
    await waitForRun(base(), run.body.run_id);
    const removed = await http(base(), 'DELETE', '/v1/runtime/routes/busy');
    assert.equal(removed.status, 200, removed.text);
  } finally {
    await provider.close();
  }
});

test('ops-runtime #12: DELETE refuses file routes, unknown routes and the default route while others remain', async () => {
  assertProblem(
    await http(base(), 'DELETE', '/v1/runtime/routes/local'),
    409,
    'routes',
    'route_not_runtime_managed',
  );
  assertProblem(await http(base(), 'DELETE', '/v1/runtime/routes/nope'), 404, 'routes', 'route_not_found');
  const set = await http(base(), 'POST', '/v1/runtime/model', { provider: 'gpt', model: 'gpt-5.4' });
  assert.equal(set.status, 200, set.text);
  assertProblem(await http(base(), 'DELETE', '/v1/runtime/routes/gpt'), 409, 'routes', 'route_is_default');
  await http(base(), 'POST', '/v1/runtime/model', { provider: 'local', model: 'scripted' });
});

test('ops-runtime #35: a runtime-added route survives a crash (SIGKILL); DELETE removes it and its key slot', async () => {
  await d.kill();
  d = await d.restart({ env });
  const routes = (await http(base(), 'GET', '/v1/runtime/routes')).body as Array<Record<string, unknown>>;
  assert.deepEqual(
    routes.map((r) => [r.route_id, r.readiness]),
    [
      ['local', 'ok'],
      ['gpt', 'ok'],
    ],
  );
  const removed = await http(base(), 'DELETE', '/v1/runtime/routes/gpt');
  assert.equal(removed.status, 200, removed.text);
  assert.equal(removed.body.default_route, 'local');
  assert.equal((await http(base(), 'GET', '/v1/runtime/secrets/routes.gpt.api_key')).status, 404);
  assert.deepEqual(
    ((await http(base(), 'GET', '/v1/runtime/routes')).body as Array<{ route_id: string }>).map(
      (r) => r.route_id,
    ),
    ['local'],
  );
});

test('ops-runtime #34: a route added on one PostgreSQL replica is ready on another', {
  skip: !testStoreIsPostgres(),
}, async () => {
  const replica = await startReplica(d, { script: { default: { turns: [{ text: 'ok' }] } }, env });
  try {
    const added = await http(base(), 'POST', '/v1/runtime/routes', { ...gpt, route_id: 'shared' });
    assert.equal(added.status, 201, added.text);
    let seen: Record<string, unknown> | undefined;
    for (let i = 0; i < 100 && seen?.readiness !== 'ok'; i++) {
      const list = (await http(replica.url, 'GET', '/v1/runtime/routes')).body as Array<
        Record<string, unknown>
      >;
      seen = list.find((r) => r.route_id === 'shared');
      if (seen?.readiness !== 'ok') await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(seen?.readiness, 'ok', JSON.stringify(seen));
    assert.equal((await http(replica.url, 'DELETE', '/v1/runtime/routes/shared')).status, 200);
    for (let i = 0; i < 100; i++) {
      const list = (await http(base(), 'GET', '/v1/runtime/routes')).body as Array<{ route_id: string }>;
      if (!list.some((r) => r.route_id === 'shared')) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail('the removal on the replica did not reach the primary');
  } finally {
    await replica.kill();
    await replica.cleanup();
  }
});
