// api-core §15 "Sessions" (items 20-27) and the session end/interrupt decisions (§3.12, §14.5-6).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon, waitForRun } from '../helpers/daemon.ts';
import { assertProblem, createSession, runCount, SCRIPT, submitRun } from './support.ts';

let d: TestDaemon;
let base: string;

before(async () => {
  d = await startDaemon({ script: SCRIPT });
  base = d.url;
});

after(async () => {
  await d?.stop();
  await d?.cleanup();
});

test('api-core #20: POST /v1/sessions {} is 201 with session_id, agent_id, snapshot and outputs', async (t) => {
  let firstId = '';
  await t.test('with {}', async () => {
    const res = await http(base, 'POST', '/v1/sessions', {});
    assert.equal(res.status, 201, res.text);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const v = res.body;
    assert.equal(typeof v.session_id, 'string');
    assert.ok(v.session_id.length > 0);
    assert.equal(typeof v.agent_id, 'string');
    assert.ok(v.agent_id.length > 0);
    assert.equal(typeof v.snapshot, 'object');
    assert.ok(v.snapshot !== null);
    assert.ok(Array.isArray(v.outputs));
    firstId = v.session_id;
    const second = await http(base, 'POST', '/v1/sessions', {});
    assert.notEqual(second.body.session_id, firstId, 'each generated session is new');
  });
  await t.test('without a body (every CreateSessionRequest field is optional)', async () => {
    const bare = await http(base, 'POST', '/v1/sessions');
    assert.equal(bare.status, 201, bare.text);
    assert.notEqual(bare.body.session_id, firstId);
  });
});

test('api-core #21: re-posting an existing session_id is 201 with the same ids and no duplicate', async () => {
  const first = await http(base, 'POST', '/v1/sessions', { session_id: 'reuse-me' });
  assert.equal(first.status, 201, first.text);
  const again = await http(base, 'POST', '/v1/sessions', { session_id: 'reuse-me' });
  assert.equal(again.status, 201, again.text);
  assert.equal(again.body.session_id, 'reuse-me');
  assert.equal(again.body.agent_id, first.body.agent_id);
  const list = await http(base, 'GET', '/v1/sessions');
  assert.equal(list.body.filter((s: any) => s.session_id === 'reuse-me').length, 1);
});

test('api-core #22: re-posting with a conflicting capability_scope or credential_scope is 409', async () => {
  const made = await http(base, 'POST', '/v1/sessions', {
    session_id: 'scoped',
    capability_scope: { skill_allow: ['alpha'] },
    credential_scope: { route_allow: ['local'] },
  });
  assert.equal(made.status, 201, made.text);
  const cap = await http(base, 'POST', '/v1/sessions', {
    session_id: 'scoped',
    capability_scope: { skill_allow: ['beta'] },
  });
  assertProblem(cap, 409, undefined, undefined, 'capability_scope conflict');
  const cred = await http(base, 'POST', '/v1/sessions', {
    session_id: 'scoped',
    credential_scope: { route_allow: ['other'] },
  });
  assertProblem(cred, 409, undefined, undefined, 'credential_scope conflict');
  // The same scopes (or none) reuse the session.
  const same = await http(base, 'POST', '/v1/sessions', {
    session_id: 'scoped',
    capability_scope: { skill_allow: ['alpha'] },
    credential_scope: { route_allow: ['local'] },
  });
  assert.equal(same.status, 201, same.text);
  assert.equal((await http(base, 'POST', '/v1/sessions', { session_id: 'scoped' })).status, 201);
  const view = await http(base, 'GET', '/v1/sessions/scoped');
  assert.deepEqual(view.body.capability_scope, { skill_allow: ['alpha'] });
  assert.deepEqual(view.body.credential_scope, { route_allow: ['local'] });
});

test('api-core #23: session_id "." or ".." (or empty) is 400 Problem(sessions/invalid_session_id)', async () => {
  for (const id of ['.', '..', '']) {
    const res = await http(base, 'POST', '/v1/sessions', { session_id: id });
    assertProblem(res, 400, 'sessions', 'invalid_session_id', JSON.stringify(id));
  }
  const list = await http(base, 'GET', '/v1/sessions');
  assert.ok(!list.body.some((s: any) => ['.', '..', ''].includes(s.session_id)));
});

test('api-core #24: unknown sessions are 404 sessions/session_not_found, and are never auto-created', async () => {
  assertProblem(await http(base, 'GET', '/v1/sessions/ghost'), 404, 'sessions', 'session_not_found', 'GET');
  assertProblem(
    await http(base, 'GET', '/v1/sessions/ghost/stream'),
    404,
    'sessions',
    'session_not_found',
    'stream',
  );
  const runs = await http(base, 'POST', '/v1/sessions/ghost/runs', { content: 'hi' });
  assertProblem(runs, 404, 'sessions', 'session_not_found', 'POST runs');
  const input = await http(base, 'POST', '/v1/sessions/ghost/input', { content: 'hi' });
  assertProblem(input, 404, 'sessions', 'session_not_found', 'POST input');
  for (const [method, path, body] of [
    ['POST', '/v1/sessions/ghost/route-policy', { route_policy: null }],
    ['POST', '/v1/sessions/ghost/credential-scope', { credential_scope: null }],
    ['POST', '/v1/sessions/ghost/interrupt', undefined],
    ['POST', '/v1/sessions/ghost/end', {}],
    ['GET', '/v1/sessions/ghost/events', undefined],
  ] as const) {
    assertProblem(
      await http(base, method, path, body),
      404,
      'sessions',
      'session_not_found',
      `${method} ${path}`,
    );
  }
  assertProblem(
    await http(base, 'GET', '/v1/sessions/ghost'),
    404,
    'sessions',
    'session_not_found',
    'still unknown',
  );
  assert.deepEqual((await http(base, 'GET', '/v1/runs?session_id=ghost')).body, []);
});

test('api-core #25: route-policy POST/PUT is shown by GET /v1/sessions/{id}; DELETE removes it', async () => {
  const sid = await createSession(base, 'routed');
  const policy = {
    provider: 'local',
    generation: { model: 'scripted-b', tool_choice: 'auto', temperature: 0.2 },
  };
  const set = await http(base, 'POST', `/v1/sessions/${sid}/route-policy`, { route_policy: policy });
  assert.equal(set.status, 200, set.text);
  assert.deepEqual(set.body.route_policy, policy);
  assert.deepEqual((await http(base, 'GET', `/v1/sessions/${sid}`)).body.route_policy, policy);

  const put = await http(base, 'PUT', `/v1/sessions/${sid}/route-policy`, {
    route_policy: { provider: 'local' },
  });
  assert.equal(put.status, 200, put.text);
  assert.deepEqual((await http(base, 'GET', `/v1/sessions/${sid}`)).body.route_policy, { provider: 'local' });

  const del = await http(base, 'DELETE', `/v1/sessions/${sid}/route-policy`);
  assert.equal(del.status, 200, del.text);
  assert.equal((await http(base, 'GET', `/v1/sessions/${sid}`)).body.route_policy, undefined);

  await http(base, 'POST', `/v1/sessions/${sid}/route-policy`, { route_policy: policy });
  const cleared = await http(base, 'POST', `/v1/sessions/${sid}/route-policy`, { route_policy: null });
  assert.equal(cleared.status, 200);
  assert.equal((await http(base, 'GET', `/v1/sessions/${sid}`)).body.route_policy, undefined);
});

test('api-core #26: credential-scope lists are trimmed, sorted, deduplicated and collapse on "*"', async () => {
  const sid = await createSession(base, 'cred');
  const a = await http(base, 'POST', `/v1/sessions/${sid}/credential-scope`, {
    credential_scope: { route_allow: [' b', 'a', 'a'] },
  });
  assert.equal(a.status, 200, a.text);
  assert.deepEqual((await http(base, 'GET', `/v1/sessions/${sid}`)).body.credential_scope.route_allow, [
    'a',
    'b',
  ]);
  const star = await http(base, 'PUT', `/v1/sessions/${sid}/credential-scope`, {
    credential_scope: { route_allow: ['x', '*'] },
  });
  assert.equal(star.status, 200, star.text);
  assert.deepEqual((await http(base, 'GET', `/v1/sessions/${sid}`)).body.credential_scope.route_allow, ['*']);
  const del = await http(base, 'DELETE', `/v1/sessions/${sid}/credential-scope`);
  assert.equal(del.status, 200);
  assert.equal((await http(base, 'GET', `/v1/sessions/${sid}`)).body.credential_scope, undefined);
});

test('api-core #27: scope mutations while a run is active or queued are 409 sessions/session_not_idle', async () => {
  const sid = await createSession(base, 'busy-scopes');
  const slow = await submitRun(base, sid, { content: 'slow one' });
  const queued = await submitRun(base, sid, { content: 'queued one' });
  for (const [method, path, body] of [
    ['POST', 'capability-scope', { capability_scope: { skill_allow: ['a'] } }],
    ['PUT', 'capability-scope', { capability_scope: null }],
    ['DELETE', 'capability-scope', undefined],
    ['POST', 'credential-scope', { credential_scope: { route_allow: ['a'] } }],
    ['PUT', 'credential-scope', { credential_scope: null }],
    ['DELETE', 'credential-scope', undefined],
  ] as const) {
    const res = await http(base, method, `/v1/sessions/${sid}/${path}`, body);
    assertProblem(res, 409, 'sessions', 'session_not_idle', `${method} ${path} while busy`);
  }
  await waitForRun(base, slow.run_id);
  await waitForRun(base, queued.run_id);
  const ok = await http(base, 'POST', `/v1/sessions/${sid}/credential-scope`, {
    credential_scope: { route_allow: ['a'] },
  });
  assert.equal(ok.status, 200, `idle again: ${ok.text}`);
});

test('api-core §3.12/§14.6 (decision): end interrupts the active run, cancels queued ones, refuses later submits', async () => {
  const sid = await createSession(base, 'ending');
  const active = await submitRun(base, sid, { content: 'slow and active' });
  const queued = await submitRun(base, sid, { content: 'waiting in line' });
  await waitForRun(base, active.run_id, (r) => r.status === 'running');
  const end = await http(base, 'POST', `/v1/sessions/${sid}/end`, { reason: 'done' });
  assert.equal(end.status, 200, end.text);
  assert.equal(end.body.session_id, sid);
  assert.ok(end.body.snapshot);
  assert.equal((await http(base, 'GET', `/v1/runs/${active.run_id}`)).body.status, 'interrupted');
  assert.equal((await http(base, 'GET', `/v1/runs/${queued.run_id}`)).body.status, 'cancelled');
  const before = await runCount(base, sid);
  assertProblem(
    await http(base, 'POST', `/v1/sessions/${sid}/runs`, { content: 'more' }),
    409,
    'sessions',
    'session_ended',
  );
  assertProblem(
    await http(base, 'POST', `/v1/sessions/${sid}/input`, { content: 'more' }),
    409,
    'sessions',
    'session_ended',
  );
  assert.equal(await runCount(base, sid), before, 'refused submits create no run');
});

test('api-core §3.12 (decision): POST /v1/sessions/{id}/end without a body is accepted (reason is optional)', async () => {
  const sid = await createSession(base, 'ending-bare');
  const res = await http(base, 'POST', `/v1/sessions/${sid}/end`);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.session_id, sid);
});

test('api-core §3.12/§14.5 (decision): interrupt stops the active run; on an idle session it reports false', async () => {
  const sid = await createSession(base, 'interrupting');
  const idle = await http(base, 'POST', `/v1/sessions/${sid}/interrupt`);
  assert.equal(idle.status, 200, idle.text);
  assert.equal(idle.body.interrupted, false);
  assert.ok(idle.body.snapshot);
  const run = await submitRun(base, sid, { content: 'slow' });
  await waitForRun(base, run.run_id, (r) => r.status === 'running');
  const res = await http(base, 'POST', `/v1/sessions/${sid}/interrupt`);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.interrupted, true);
  assert.equal((await http(base, 'GET', `/v1/runs/${run.run_id}`)).body.status, 'interrupted');
  // The session accepts new work afterwards.
  const next = await submitRun(base, sid, { content: 'hello again' });
  assert.equal((await waitForRun(base, next.run_id)).status, 'completed');
  // docs/decisions.md #5: queued runs stay queued and the next one starts.
  const active = await submitRun(base, sid, { content: 'slow again' });
  const queued = await submitRun(base, sid, { content: 'after the interrupt' });
  await waitForRun(base, active.run_id, (r) => r.status === 'running');
  assert.equal((await http(base, 'POST', `/v1/sessions/${sid}/interrupt`)).body.interrupted, true);
  assert.equal((await waitForRun(base, active.run_id)).status, 'interrupted');
  assert.equal((await waitForRun(base, queued.run_id)).status, 'completed');
});
