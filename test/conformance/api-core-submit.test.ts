// api-core §15 "Submitting work" (items 30-39): detached vs inline, input rules, idempotency, routes.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';
import { ACTIVE, assertProblem, createSession, runCount, SCRIPT, sleep, submitRun } from './support.ts';

let d: TestDaemon;
let base: string;
let routesDir = '';

before(async () => {
  const dir = tempDir('kheish-submit-routes-');
  routesDir = dir;
  const script = join(dir, 'script.json');
  writeFileSync(script, JSON.stringify(SCRIPT));
  // `local` (default) and `alt` are scripted; `broken` uses a driver this build cannot serve,
  // so its readiness is `error` and submits on it must be refused (route_not_ready).
  const routesToml = `version = 1
default_route = "local"

[routes.local]
driver = "scripted"
default_model = "scripted"
script_file = ${JSON.stringify(script)}

[routes.alt]
driver = "scripted"
default_model = "alt-model"
script_file = ${JSON.stringify(script)}

[routes.broken]
driver = "openai"
default_model = "gpt-none"
`;
  d = await startDaemon({ routesToml });
  base = d.url;
});

after(async () => {
  await d?.stop();
  await d?.cleanup();
  if (routesDir) rmSync(routesDir, { recursive: true, force: true });
});

test('api-core #30: POST /runs {"content":"hi"} is 202 with a RunView of kind input', async () => {
  const sid = await createSession(base);
  const res = await http(base, 'POST', `/v1/sessions/${sid}/runs`, { content: 'hi' });
  assert.equal(res.status, 202, res.text);
  const r = res.body;
  assert.equal(typeof r.run_id, 'string');
  assert.equal(r.kind, 'input');
  assert.equal(r.session_id, sid);
  assert.ok(['queued', 'running'].includes(r.status), r.status);
  assert.equal(typeof r.submitted_at_ms, 'number');
  assert.equal(typeof r.updated_at_ms, 'number');
  assert.equal(typeof r.agent_id, 'string');
  for (const k of ['source_plugin', 'source_kind', 'actor_id'])
    assert.equal(typeof r.request?.[k], 'string', `request.${k}`);
  // Caller-supplied provenance is kept.
  const own = await submitRun(base, sid, {
    content: 'x',
    source_plugin: 'cli',
    source_kind: 'tty',
    actor_id: 'alice',
  });
  assert.equal(own.request.source_plugin, 'cli');
  assert.equal(own.request.source_kind, 'tty');
  assert.equal(own.request.actor_id, 'alice');
  await waitForRun(base, own.run_id);
});

test('api-core #31: back-to-back runs on one session: never two active; the second waits queued', async () => {
  const sid = await createSession(base);
  const first = await submitRun(base, sid, { content: 'slow first' });
  const second = await submitRun(base, sid, { content: 'quick second' });
  assert.equal(second.status, 'queued', 'the second is queued behind the first');
  assert.equal(typeof second.queued_position, 'number');
  const seen = new Set<string>();
  for (;;) {
    const [a, b] = await Promise.all(
      [first.run_id, second.run_id].map((id) => http(base, 'GET', `/v1/runs/${id}`)),
    );
    const statuses = [a!.body.status, b!.body.status];
    seen.add(statuses.join('/'));
    assert.ok(statuses.filter((s) => ACTIVE.includes(s)).length <= 1, `two active runs: ${statuses}`);
    if (b!.body.status === 'queued') assert.equal(typeof b!.body.queued_position, 'number');
    if (['completed', 'failed', 'cancelled', 'interrupted'].includes(b!.body.status)) break;
    await sleep(20);
  }
  assert.ok(seen.has('running/queued'), `observed ${[...seen].join(', ')}`);
  const [evA, evB] = await Promise.all(
    [first.run_id, second.run_id].map((id) => http(base, 'GET', `/v1/runs/${id}/events`)),
  );
  const endA = evA!.body.find((e: any) => e.event.type === 'completed').timestamp_ms;
  const startB = evB!.body.find((e: any) => e.event.type === 'started').timestamp_ms;
  assert.ok(startB >= endA, 'the second starts only after the first finished');
});

test('api-core #32: POST /input while a run is active or queued is 409 sessions/session_busy', async () => {
  const sid = await createSession(base);
  const active = await submitRun(base, sid, { content: 'slow holder' });
  // Slow too: the second check below must find it still queued or running when /input arrives.
  const queued = await submitRun(base, sid, { content: 'queued behind, slow' });
  const before = await runCount(base, sid);
  const res = await http(base, 'POST', `/v1/sessions/${sid}/input`, { content: 'inline please' });
  assertProblem(res, 409, 'sessions', 'session_busy', '/input while busy');
  assert.equal(await runCount(base, sid), before, 'the refused /input created no run');
  // Still busy while only the queued run remains to start.
  await waitForRun(base, active.run_id);
  const q = await http(base, 'GET', `/v1/runs/${queued.run_id}`);
  if (q.body.status === 'queued' || q.body.status === 'running') {
    assertProblem(
      await http(base, 'POST', `/v1/sessions/${sid}/input`, { content: 'x' }),
      409,
      'sessions',
      'session_busy',
    );
  }
  await waitForRun(base, queued.run_id);
});

test('api-core #33: POST /input on an idle session is 200 with the updated SessionView', async () => {
  const sid = await createSession(base);
  const res = await http(base, 'POST', `/v1/sessions/${sid}/input`, { content: 'hello inline' });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.session_id, sid);
  assert.equal(typeof res.body.snapshot, 'object');
  assert.ok(Array.isArray(res.body.outputs));
  assert.equal('run_id' in res.body, false, 'no run_id at top level');
  assert.ok(
    res.body.outputs.some((o: any) => o.content === 'ok'),
    'the inline reply is among the outputs',
  );
  const runs = await http(base, 'GET', `/v1/runs?session_id=${sid}`);
  assert.equal(runs.body.length, 1);
  assert.equal(runs.body[0].status, 'completed', 'inline returns once the run settled');
});

test('api-core #34: input rule violations are 400 sessions/invalid_input and create no run', async (t) => {
  const sid = await createSession(base);
  const cases: Array<[string, unknown]> = [
    ['input_items with content', { content: 'hi', input_items: [{ type: 'text', text: 'also hi' }] }],
    ['no input at all', {}],
    ['empty content only', { content: '' }],
    [
      'input_items with attachments',
      {
        input_items: [{ type: 'text', text: 'x' }],
        attachments: [{ type: 'asset_reference', asset_id: 'a' }],
      },
    ],
    [
      'inline_asset with empty content_base64',
      { input_items: [{ type: 'inline_asset', file_name: 'a.txt', content_base64: '' }] },
    ],
    [
      'inline_asset with empty file_name',
      { input_items: [{ type: 'inline_asset', file_name: '', content_base64: 'aGk=' }] },
    ],
    [
      'attachment inline_asset with empty content_base64',
      { attachments: [{ type: 'inline_asset', file_name: 'a.txt', content_base64: '' }] },
    ],
    ['asset_reference with empty asset_id', { input_items: [{ type: 'asset_reference', asset_id: '' }] }],
  ];
  for (const [name, body] of cases) {
    await t.test(name, async () => {
      for (const endpoint of ['runs', 'input']) {
        const res = await http(base, 'POST', `/v1/sessions/${sid}/${endpoint}`, body);
        assertProblem(res, 400, 'sessions', 'invalid_input', `/${endpoint}: ${name}`);
      }
    });
  }
  assert.equal(await runCount(base, sid), 0);
});

test('api-core #35: input_items alone (no content field) is accepted', async () => {
  const sid = await createSession(base);
  const run = await submitRun(base, sid, { input_items: [{ type: 'text', text: 'hello from items' }] });
  assert.equal(run.kind, 'input');
  assert.equal((await waitForRun(base, run.run_id)).status, 'completed');
  const inline = await http(base, 'POST', `/v1/sessions/${sid}/input`, {
    input_items: [{ type: 'text', text: 'inline items' }],
  });
  assert.equal(inline.status, 200, inline.text);
});

test('api-core #36: the same Idempotency-Key and body returns the same run and creates no second one', async () => {
  const sid = await createSession(base);
  const body = { content: 'do it once' };
  const a = await submitRun(base, sid, body, { 'idempotency-key': 'key-36' });
  const b = await http(base, 'POST', `/v1/sessions/${sid}/runs`, body, { 'idempotency-key': 'key-36' });
  assert.ok(b.status === 202 || b.status === 200, b.text);
  assert.equal(b.body.run_id, a.run_id);
  assert.equal(await runCount(base, sid), 1);
  // The body field is the same key as the header.
  const c = await http(base, 'POST', `/v1/sessions/${sid}/runs`, { ...body, idempotency_key: 'key-36' });
  assert.equal(c.body.run_id, a.run_id, c.text);
  await waitForRun(base, a.run_id);
  // Still the same run after it finished.
  const e = await http(base, 'POST', `/v1/sessions/${sid}/runs`, body, { 'idempotency-key': 'key-36' });
  assert.equal(e.body.run_id, a.run_id);
  assert.equal(await runCount(base, sid), 1);
});

test('api-core #37: the same Idempotency-Key with a different body is 409 idempotency/idempotency_conflict', async () => {
  const sid = await createSession(base);
  const a = await submitRun(base, sid, { content: 'first body' }, { 'idempotency-key': 'key-37' });
  const res = await http(
    base,
    'POST',
    `/v1/sessions/${sid}/runs`,
    { content: 'second body' },
    { 'idempotency-key': 'key-37' },
  );
  assertProblem(res, 409, 'idempotency', 'idempotency_conflict', 'different body');
  assert.equal(await runCount(base, sid), 1);
  await waitForRun(base, a.run_id);
});

test('api-core #38: header/body key mismatch or an empty key is 400 idempotency/invalid_idempotency_key', async () => {
  const sid = await createSession(base);
  const cases: Array<[string, Record<string, unknown>, Record<string, string>]> = [
    ['header a, body b', { content: 'x', idempotency_key: 'b' }, { 'idempotency-key': 'a' }],
    ['empty header', { content: 'x' }, { 'idempotency-key': '' }],
    ['blank header', { content: 'x' }, { 'idempotency-key': '   ' }],
    ['empty body key', { content: 'x', idempotency_key: '' }, {}],
    ['blank body key', { content: 'x', idempotency_key: '  ' }, {}],
  ];
  for (const [name, body, headers] of cases) {
    const res = await http(base, 'POST', `/v1/sessions/${sid}/runs`, body, headers);
    assertProblem(res, 400, 'idempotency', 'invalid_idempotency_key', name);
  }
  assert.equal(await runCount(base, sid), 0);
});

test('api-core #39: request.provider is the override, else the session route_policy, else default_route', async (t) => {
  await t.test('explicit override (provider and its alias route_id)', async () => {
    const sid = await createSession(base);
    const run = await submitRun(base, sid, { content: 'hi', provider: 'alt' });
    assert.equal(run.request.provider, 'alt');
    assert.equal(run.request.model, 'alt-model');
    assert.equal((await http(base, 'GET', `/v1/runs/${run.run_id}`)).body.request.provider, 'alt');
    const alias = await submitRun(base, sid, { content: 'hi', route_id: 'alt' });
    assert.equal(alias.request.provider, 'alt');
    await waitForRun(base, alias.run_id);
  });
  await t.test('session route_policy, and the override still wins over it', async () => {
    const sid = await createSession(base);
    const set = await http(base, 'POST', `/v1/sessions/${sid}/route-policy`, {
      route_policy: { provider: 'alt' },
    });
    assert.equal(set.status, 200, set.text);
    const run = await submitRun(base, sid, { content: 'hi' });
    assert.equal(run.request.provider, 'alt');
    const over = await submitRun(base, sid, { content: 'hi', provider: 'local' });
    assert.equal(over.request.provider, 'local');
    await waitForRun(base, over.run_id);
    // Pinned at creation: changing the policy afterwards does not move an existing run.
    await http(base, 'DELETE', `/v1/sessions/${sid}/route-policy`);
    assert.equal((await http(base, 'GET', `/v1/runs/${run.run_id}`)).body.request.provider, 'alt');
  });
  await t.test('daemon default_route', async () => {
    const sid = await createSession(base);
    const run = await submitRun(base, sid, { content: 'hi' });
    assert.equal(run.request.provider, 'local');
    assert.equal(run.request.model, 'scripted');
    await waitForRun(base, run.run_id);
  });
  await t.test(
    'provider is the route id and model is kept as given, even when it starts with a route id',
    async () => {
      const sid = await createSession(base);
      const over = await submitRun(base, sid, {
        content: 'hi',
        provider: 'local',
        generation: { model: 'alt/vendor-model' },
      });
      assert.deepEqual([over.request.provider, over.request.model], ['local', 'alt/vendor-model']);
      const bare = await submitRun(base, sid, { content: 'hi', generation: { model: 'alt/m' } });
      assert.deepEqual([bare.request.provider, bare.request.model], ['local', 'alt/m']);
      const set = await http(base, 'PUT', `/v1/sessions/${sid}/route-policy`, {
        route_policy: { provider: 'alt', generation: { model: 'local/openai/gpt-5.4-mini' } },
      });
      assert.equal(set.status, 200, set.text);
      const viaPolicy = await submitRun(base, sid, { content: 'hi' });
      assert.deepEqual(
        [viaPolicy.request.provider, viaPolicy.request.model],
        ['alt', 'local/openai/gpt-5.4-mini'],
      );
      await waitForRun(base, viaPolicy.run_id);
      await http(base, 'DELETE', `/v1/sessions/${sid}/route-policy`);
      const model = await http(base, 'POST', '/v1/runtime/model', { provider: 'alt', model: 'local/x' });
      assert.equal(model.status, 200, model.text);
      assert.deepEqual([model.body.default_route, model.body.model], ['alt', 'local/x']);
      const viaDefault = await submitRun(base, sid, { content: 'hi' });
      assert.deepEqual([viaDefault.request.provider, viaDefault.request.model], ['alt', 'local/x']);
      await waitForRun(base, viaDefault.run_id);
      const back = await http(base, 'POST', '/v1/runtime/model', { provider: 'local', model: 'scripted' });
      assert.equal(back.status, 200, back.text);
    },
  );
  await t.test('a route that is not ready is 409 routes/route_not_ready and enqueues nothing', async () => {
    const sid = await createSession(base);
    const res = await http(base, 'POST', `/v1/sessions/${sid}/runs`, { content: 'hi', provider: 'broken' });
    assertProblem(res, 409, 'routes', 'route_not_ready', 'override to broken');
    const inline = await http(base, 'POST', `/v1/sessions/${sid}/input`, {
      content: 'hi',
      provider: 'broken',
    });
    assertProblem(inline, 409, 'routes', 'route_not_ready', 'inline on broken');
    const set = await http(base, 'POST', `/v1/sessions/${sid}/route-policy`, {
      route_policy: { provider: 'broken' },
    });
    assert.equal(set.status, 200, set.text);
    const viaPolicy = await http(base, 'POST', `/v1/sessions/${sid}/runs`, { content: 'hi' });
    assertProblem(viaPolicy, 409, 'routes', 'route_not_ready', 'policy on broken');
    assert.equal(await runCount(base, sid), 0);
  });
});
