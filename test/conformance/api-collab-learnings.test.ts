// Learnings conformance (api-collab §4.1–4.5; checklist #41–#45 and decisions 480–499 of
// docs/decisions.md): candidates, publication, learnings lifecycle and the automation policy's
// validation, on a scripted daemon. Both stores (KHEISH_TEST_STORE=postgres).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon, waitForRun } from '../helpers/daemon.ts';
import { assertProblem, createSession, submitRun } from './support.ts';

let d: TestDaemon;
before(async () => {
  d = await startDaemon({ script: { default: { turns: [{ text: 'noted' }] } } });
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
});
const base = () => d.url;

async function ok(method: string, path: string, body?: unknown, status = 200) {
  const res = await http(base(), method, path, body);
  assert.equal(res.status, status, `${method} ${path}: ${res.text}`);
  return res.body;
}
const candidate = (body: Record<string, unknown>) =>
  ok('POST', '/v1/learning-candidates', { scope: { kind: 'workspace' }, kind: 'fact', ...body }, 201);
const publish = (id: string, body: unknown = {}) => ok('POST', `/v1/learning-candidates/${id}/publish`, body);

test('api-collab #41: content over 1600 characters and confidence outside 0..100 are 400; defaults scoped / 80', async () => {
  const path = '/v1/learning-candidates';
  const scope = { kind: 'workspace' };
  assertProblem(
    await http(base(), 'POST', path, { scope, kind: 'fact', content: 'x'.repeat(1601) }),
    400,
    'learnings',
    'invalid_learning_candidate',
  );
  for (const confidence of [101, -1])
    assertProblem(
      await http(base(), 'POST', path, { scope, kind: 'fact', content: 'c', confidence }),
      400,
      'learnings',
    );
  assertProblem(await http(base(), 'POST', path, { scope, kind: 'fact', content: '   ' }), 400, 'learnings');
  assertProblem(await http(base(), 'POST', path, { scope, kind: 'fact' }), 400);
  assertProblem(
    await http(base(), 'POST', path, { scope, kind: 'fact', content: 'c', source: { thread: 'x' } }),
    400,
  );
  assertProblem(
    await http(base(), 'POST', path, { scope: { kind: 'session' }, kind: 'fact', content: 'c' }),
    400,
    'learnings',
  );
  assertProblem(
    await http(base(), 'POST', path, {
      scope: { kind: 'workspace', id: 'other' },
      kind: 'fact',
      content: 'c',
    }),
    400,
    'learnings',
  );
  const c = await candidate({ content: `${'ab '.repeat(533)}x` });
  assert.equal(c.sensitivity, 'scoped');
  assert.equal(c.confidence, 80);
  assert.equal(c.origin, 'api');
  assert.equal(c.state, 'pending');
  assert.deepEqual(c.source, {});
  assert.deepEqual(c.scope, { kind: 'workspace', id: 'default' });
  assert.equal(c.published_learning_id, null);
  // The default policy is shadow: the review is recorded, the candidate stays pending.
  assert.equal(c.automation_review.mode, 'shadow');
  assert.equal(c.automation_review.action, 'manual_review');
  assert.deepEqual(await ok('GET', `/v1/learning-candidates/${c.candidate_id}`), c);
  assertProblem(
    await http(base(), 'GET', '/v1/learning-candidates/nope'),
    404,
    'learnings',
    'learning_candidate_not_found',
  );
});

test('api-collab #42: creating a run_summary candidate through the API is rejected', async () => {
  const res = await http(base(), 'POST', '/v1/learning-candidates', {
    scope: { kind: 'workspace' },
    kind: 'run_summary',
    content: 'Run completed.',
  });
  assertProblem(res, 400, 'learnings', 'invalid_learning_candidate');
  assert.match(res.body.detail, /daemon/);
});

test('api-collab #43: scope filters: scope_id alone and session without id are 400; workspace alone means default', async () => {
  for (const path of ['/v1/learning-candidates', '/v1/learnings']) {
    assertProblem(
      await http(base(), 'GET', `${path}?scope_id=x`),
      400,
      'learnings',
      'invalid_learning_filter',
    );
    for (const k of ['session', 'persona', 'project'])
      assertProblem(
        await http(base(), 'GET', `${path}?scope_kind=${k}`),
        400,
        'learnings',
        'invalid_learning_filter',
      );
  }
  await createSession(base(), 's43');
  await candidate({ scope: { kind: 'session', id: 's43' }, content: 'Session-only note' });
  const ws = await candidate({ content: 'Workspace note for filters' });
  const listed = await ok('GET', '/v1/learning-candidates?scope_kind=workspace');
  assert.ok(listed.length > 0);
  assert.ok(listed.every((c: any) => c.scope.kind === 'workspace' && c.scope.id === 'default'));
  assert.ok(listed.some((c: any) => c.candidate_id === ws.candidate_id));
  const session = await ok(
    'GET',
    '/v1/learning-candidates?scope_kind=session&scope_id=s43&kind=fact&state=pending',
  );
  assert.deepEqual(
    session.map((c: any) => c.content),
    ['Session-only note'],
  );
  const q = await ok('GET', '/v1/learning-candidates?query=FILTERS%20workspace');
  assert.deepEqual(
    q.map((c: any) => c.candidate_id),
    [ws.candidate_id],
  );
});

test('api-collab #44: publish tier: default active, provisional gives provisional, supersedes with provisional is 400', async () => {
  const a = await candidate({ content: 'Deploy window is Tuesday' });
  const active = await publish(a.candidate_id);
  assert.equal(active.status, 'active');
  assert.equal(active.publish_tier, 'active');
  assert.equal(active.policy_decision, 'manual');
  assert.equal(active.policy_actor, 'operator');
  assert.equal(active.verification_status, 'unverified');
  assert.equal(active.supersedes, null);
  const after = await ok('GET', `/v1/learning-candidates/${a.candidate_id}`);
  assert.equal(after.state, 'published');
  assert.equal(after.published_learning_id, active.learning_id);
  assertProblem(
    await http(base(), 'POST', `/v1/learning-candidates/${a.candidate_id}/publish`, {}),
    409,
    'learnings',
    'learning_candidate_state_conflict',
  );

  const p = await candidate({ content: 'Build cache lives in /tmp/cache', kind: 'decision' });
  const prov = await publish(p.candidate_id, { publish_tier: 'provisional' });
  assert.equal(prov.status, 'provisional');
  assert.equal(prov.publish_tier, 'provisional');

  const s = await candidate({ content: 'Deploy window is Thursday' });
  assertProblem(
    await http(base(), 'POST', `/v1/learning-candidates/${s.candidate_id}/publish`, {
      publish_tier: 'provisional',
      supersedes: active.learning_id,
    }),
    400,
    'learnings',
    'invalid_learning_candidate',
  );
  // Same subject, different value: a conflict unless supersedes names the learning.
  assertProblem(
    await http(base(), 'POST', `/v1/learning-candidates/${s.candidate_id}/publish`, {}),
    409,
    'learnings',
    'learning_conflict',
  );
  const replaced = await publish(s.candidate_id, { supersedes: active.learning_id });
  assert.equal(replaced.supersedes, active.learning_id);
  const old = await ok('GET', `/v1/learnings/${active.learning_id}`);
  assert.equal(old.status, 'superseded');
  assert.equal(old.superseded_by, replaced.learning_id);
});

test('api-collab §4.3: equivalent content reuses the learning id; reject creates nothing', async () => {
  const a = await publish((await candidate({ content: 'Project codename is Atlas' })).candidate_id);
  const b = await publish((await candidate({ content: 'project codename: atlas' })).candidate_id);
  assert.equal(b.learning_id, a.learning_id);
  const r = await candidate({ content: 'Lunch is at noon' });
  const rejected = await ok('POST', `/v1/learning-candidates/${r.candidate_id}/reject`, {
    reason: 'not durable',
  });
  assert.equal(rejected.state, 'rejected');
  assert.equal(rejected.published_learning_id, null);
  assert.equal((await ok('GET', '/v1/learnings?query=lunch')).length, 0);
  assertProblem(
    await http(base(), 'POST', `/v1/learning-candidates/${r.candidate_id}/reject`, {}),
    409,
    'learnings',
  );
});

test('api-collab §4.4: learnings: filters, revoke, supersede in scope only, revoke-matching', async () => {
  await createSession(base(), 's44');
  const scope = { kind: 'session', id: 's44' };
  const l = await publish(
    (await candidate({ scope, kind: 'preference', content: 'Preferred editor is vim' })).candidate_id,
  );
  assert.deepEqual(
    (
      await ok(
        'GET',
        '/v1/learnings?scope_kind=session&scope_id=s44&kind=preference&status=active&policy_decision=manual&policy_actor=operator',
      )
    ).map((x: any) => x.learning_id),
    [l.learning_id],
  );
  assert.equal((await ok('GET', '/v1/learnings?query=EDITOR')).length, 1);
  assertProblem(await http(base(), 'GET', '/v1/learnings/nope'), 404, 'learnings', 'learning_not_found');
  assertProblem(
    await http(base(), 'POST', `/v1/learnings/${l.learning_id}/supersede`, {
      scope: { kind: 'workspace' },
      content: 'Preferred editor is emacs',
    }),
    400,
    'learnings',
    'invalid_learning',
  );
  assertProblem(
    await http(base(), 'POST', `/v1/learnings/${l.learning_id}/supersede`, { content: 'z'.repeat(1601) }),
    400,
  );
  const next = await ok('POST', `/v1/learnings/${l.learning_id}/supersede`, {
    content: 'Preferred editor is emacs',
  });
  assert.equal(next.status, 'active');
  assert.equal(next.publish_tier, 'active');
  assert.equal(next.supersedes, l.learning_id);
  assert.deepEqual(next.scope, scope);
  assert.equal((await ok('GET', `/v1/learnings/${l.learning_id}`)).status, 'superseded');
  const revoked = await ok('POST', `/v1/learnings/${next.learning_id}/revoke`, { reason: 'outdated' });
  assert.equal(revoked.status, 'revoked');
  assertProblem(
    await http(base(), 'POST', `/v1/learnings/${next.learning_id}/revoke`, {}),
    409,
    'learnings',
    'learning_state_conflict',
  );

  // Bulk revoke: an empty filter set needs all:true.
  assertProblem(
    await http(base(), 'POST', '/v1/learnings/revoke-matching', { reason: 'x' }),
    400,
    'learnings',
    'invalid_learning_filter',
  );
  assertProblem(
    await http(base(), 'POST', '/v1/learnings/revoke-matching', { query: '', reason: 'x' }),
    400,
    'learnings',
    'invalid_learning_filter',
  );
  const m1 = await publish((await candidate({ scope, content: 'Staging host is alpha' })).candidate_id);
  const m2 = await publish(
    (await candidate({ scope, kind: 'decision', content: 'Release train weekly' })).candidate_id,
  );
  const res = await ok('POST', '/v1/learnings/revoke-matching', {
    scope_kind: 'session',
    scope_id: 's44',
    reason: 'bulk rollback',
  });
  assert.equal(res.revoked_count, 2);
  assert.deepEqual(new Set(res.learning_ids), new Set([m1.learning_id, m2.learning_id]));
  assert.equal((await ok('GET', `/v1/learnings/${m1.learning_id}`)).revoke_reason, 'bulk rollback');
});

test('api-collab §4.4: a learning past expires_at_ms reads expired and leaves the live set', async () => {
  const c = await candidate({ content: 'Freeze ends soon', expires_at_ms: Date.now() + 300 });
  const l = await publish(c.candidate_id);
  assert.equal(l.status, 'active');
  await new Promise((r) => setTimeout(r, 400));
  assert.equal((await ok('GET', `/v1/learnings/${l.learning_id}`)).status, 'expired');
  assert.ok(
    (await ok('GET', '/v1/learnings?status=expired')).some((x: any) => x.learning_id === l.learning_id),
  );
});

test('api-collab #45: policy: only expected_revision, default_action publish_active, max_candidates 9 are 400; stale revision 409', async () => {
  const path = '/v1/runtime/learning-policy';
  const bad = async (body: unknown) =>
    assertProblem(await http(base(), 'POST', path, body), 400, 'runtime', 'invalid_learning_policy');
  const initial = await ok('GET', path);
  assert.equal(initial.mode, 'shadow');
  assert.equal(initial.capture.run_summary_candidates, true);
  assert.deepEqual(initial.capture.semantic_candidates, {
    enabled: false,
    model: null,
    timeout_ms: null,
    max_candidates_per_run: 2,
  });
  assert.equal(initial.judge.enabled, false);
  await bad({ expected_revision: 0 });
  await bad({ policy: { mode: 'shadow', publication: { default_action: 'publish_active' } } });
  await bad({ policy: { mode: 'shadow', capture: { semantic_candidates: { max_candidates_per_run: 9 } } } });
  await bad({ policy: { mode: 'shadow', capture: { semantic_candidates: { max_candidates_per_run: 0 } } } });
  await bad({ policy: { mode: 'shadow', capture: { semantic_candidates: { timeout_ms: 0 } } } });
  await bad({ policy: { mode: 'shadow', judge: { timeout_ms: 0 } } });
  await bad({ policy: { mode: 'sometimes' } });
  await bad({ policy: { publication: { rules: [{ name: 'r', action: 'publish_active' }] } } });
  await bad({
    policy: { publication: { rules: [{ name: 'r', kind: 'procedure', action: 'publish_active' }] } },
  });
  await bad({ policy: { publication: { quarantined_rule_names: ['a', 'a'] } } });
  await bad({ policy: { publication: { quarantined_rule_names: [''] } } });
  const rev = (await ok('GET', '/v1/runtime')).config.revision as number;
  const set = await ok('POST', path, { policy: { mode: 'manual_only' }, expected_revision: rev });
  assert.equal(set.learning_policy.mode, 'manual_only');
  assert.equal(set.config.revision, rev + 1);
  assertProblem(
    await http(base(), 'POST', path, { policy: { mode: 'shadow' }, expected_revision: rev }),
    409,
    'runtime',
    'runtime_revision_conflict',
  );
  // The legacy flat form replaces the whole policy too.
  await ok('POST', path, { mode: 'shadow', capture: { run_summary_candidates: false } });
  const flat = await ok('GET', path);
  assert.equal(flat.mode, 'shadow');
  assert.equal(flat.capture.run_summary_candidates, false);
  await ok('POST', path, { policy: { mode: 'shadow' } });
});

test('concepts §4.10: a terminal run leaves one daemon-origin run_summary candidate in its session scope', async () => {
  await createSession(base(), 'srun');
  const run = await submitRun(base(), 'srun', { content: 'summarize the release notes' });
  await waitForRun(base(), run.run_id);
  let found: any[] = [];
  for (let i = 0; i < 50 && found.length === 0; i++) {
    found = await ok('GET', '/v1/learning-candidates?scope_kind=session&scope_id=srun&kind=run_summary');
    if (!found.length) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(found.length, 1);
  const c = found[0];
  assert.equal(c.origin, 'daemon');
  assert.deepEqual(c.source, { session_id: 'srun', run_id: run.run_id });
  assert.match(c.content, /Run completed/);
  assert.match(c.content, /release notes/);
});
