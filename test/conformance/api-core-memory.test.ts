// Memory inspection and recovered run memory conformance (api-core §3.5, §5.6, checklist #29;
// concepts §4.9 test hooks; decisions 440-452 of docs/decisions.md). Both stores
// (KHEISH_TEST_STORE=postgres).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';
import { writeSkill } from '../helpers/skill-tree.ts';
import { queryState } from '../helpers/state-query.ts';
import { execState } from '../helpers/state-write.ts';
import { assertProblem, createSession, submitRun } from './support.ts';

const skills = tempDir('kheish-memory-skills-');
writeSkill(skills, 'deploy-checklist', {
  meta: { description: 'Checklist for a deploy of the billing service' },
  body: 'Check the deploy.',
});

const SCRIPT = {
  rules: [
    { match: 'hang', turns: [{ hang: true }] },
    {
      match: 'explode',
      turns: [{ error: { status: 400, message: 'scripted provider rejected the request' } }],
    },
  ],
  default: { turns: [{ text: 'noted' }] },
};

let d: TestDaemon;
before(async () => {
  d = await startDaemon({ script: SCRIPT, args: ['--skill-root', skills] });
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
});

async function ok(method: string, path: string, body?: unknown, status = 200) {
  const res = await http(d.url, method, path, body);
  assert.equal(res.status, status, `${method} ${path}: ${res.text}`);
  return res.body;
}

async function run(sessionId: string, content: string) {
  const r = await submitRun(d.url, sessionId, { content });
  return waitForRun(d.url, r.run_id);
}

test('api-core #29: memory-search without query has no skills; limit=1000 returns at most 50; kinds are the three', async () => {
  await ok('POST', '/v1/runtime/run-memory-policy', {
    policy: { max_tracked_per_session: 64, max_prompt_entries: 3 },
  });
  const s = await createSession(d.url, 'mem-29');
  for (let i = 0; i < 52; i++) await run(s, `deploy the billing service step ${i}`);
  const browse = await ok('GET', `/v1/sessions/${s}/memory-search?limit=1000`);
  assert.equal(browse.results.length, 50);
  assert.equal(browse.truncated, true);
  assert.ok(browse.results.every((r: any) => r.kind !== 'skill'));
  assert.equal(browse.query, undefined);
  const searched = await ok('GET', `/v1/sessions/${s}/memory-search?query=deploy%20checklist&limit=1000`);
  assert.ok(searched.results.length <= 50);
  for (const r of searched.results) assert.ok(['learning', 'recovered_run', 'skill'].includes(r.kind));
  const skill = searched.results.find((r: any) => r.kind === 'skill');
  assert.equal(skill?.source_id, 'deploy-checklist', 'a query finds the visible skill');
  assert.deepEqual(skill.matched_fields, ['name', 'description']);
  assert.equal(
    (await ok('GET', `/v1/sessions/${s}/memory-search`)).results.length,
    12,
    'limit defaults to 12',
  );
  const first = searched.results[0];
  for (const key of [
    'source_id',
    'title',
    'excerpt',
    'score',
    'timestamp_ms',
    'prompt_eligible',
    'matched_fields',
  ])
    assert.ok(key in first, `result has ${key}`);
  assert.equal(searched.session_id, s);
  assert.deepEqual(searched.learning_scopes.at(0), { kind: 'session', id: s });
  assert.deepEqual(searched.learning_scopes.at(-1), { kind: 'workspace', id: 'default' });
  assertProblem(
    await http(d.url, 'GET', '/v1/sessions/nope/memory-search'),
    404,
    'sessions',
    'session_not_found',
  );
});

test('concepts §4.9: policy GET shows the defaults; invalid, empty and CAS-only bodies are 400; stale revision is 409', async () => {
  const fresh = await startDaemon({ script: SCRIPT });
  try {
    const got = await http(fresh.url, 'GET', '/v1/runtime/run-memory-policy');
    assert.deepEqual(got.body, {
      enabled: true,
      retention_ms: 2_592_000_000,
      max_tracked_per_session: 32,
      max_prompt_entries: 3,
      redact_pii: true,
      search_visibility: 'session_only',
      // Our extension (docs/decisions.md 453), off by default.
      semantic_search: { enabled: false, route: null, model: null },
    });
    const bad = (body: unknown) =>
      http(fresh.url, 'POST', '/v1/runtime/run-memory-policy', body).then((r) =>
        assertProblem(r, 400, 'runtime', 'invalid_run_memory_policy'),
      );
    await bad({});
    await bad({ expected_revision: 0 });
    await bad({ policy: {} });
    await bad({ policy: { max_prompt_entries: 40 } });
    await bad({ policy: { max_tracked_per_session: 0 } });
    await bad({ policy: { search_visibility: 'everyone' } });
    await bad({ policy: { colour: 'blue' } });
    const rev = (await http(fresh.url, 'GET', '/v1/runtime')).body.config.revision;
    const set = await http(fresh.url, 'POST', '/v1/runtime/run-memory-policy', {
      policy: { search_visibility: 'learning_scopes' },
      expected_revision: rev,
    });
    assert.equal(set.status, 200, set.text);
    assert.equal(set.body.run_memory_policy.search_visibility, 'learning_scopes');
    assert.equal(set.body.run_memory_policy.max_prompt_entries, 3, 'a full replacement fills in defaults');
    assertProblem(
      await http(fresh.url, 'POST', '/v1/runtime/run-memory-policy', {
        policy: { enabled: false },
        expected_revision: rev,
      }),
      409,
      'runtime',
      'runtime_revision_conflict',
    );
    // The flat form is the policy itself.
    const flat = await http(fresh.url, 'POST', '/v1/runtime/run-memory-policy', { enabled: false });
    assert.equal(flat.status, 200, flat.text);
    assert.equal(flat.body.run_memory_policy.enabled, false);
  } finally {
    await fresh.kill();
    await fresh.cleanup();
  }
});

test('concepts §4.9: a queued run leaves no record; terminal runs leave one each, capped and with receipts', async () => {
  const s = await createSession(d.url, 'mem-queued');
  const hanging = await submitRun(d.url, s, { content: 'hang here' });
  await waitForRun(d.url, hanging.run_id, (r) => r.status === 'running');
  const queued = await submitRun(d.url, s, { content: 'queued behind' });
  assert.equal(queued.status, 'queued');
  const rows = async (id: string) => queryState(d, 'select * from run_memories where run_id = ?', [id]);
  assert.equal((await rows(queued.run_id)).length, 0, 'a queued run has no record');
  assert.equal((await rows(hanging.run_id)).length, 0, 'a running run has no record');
  await ok('POST', `/v1/runs/${hanging.run_id}/cancel`, {});
  await waitForRun(d.url, queued.run_id);
  const [cancelled] = await rows(hanging.run_id);
  assert.equal(cancelled.status, 'cancelled');
  assert.equal(cancelled.semantic_capture, 'skipped');
  assert.deepEqual(JSON.parse(cancelled.failure_markers), ['status:cancelled']);
  const [done] = await rows(queued.run_id);
  assert.equal(done.status, 'completed');
  // A completed run's receipt starts `pending`; the learnings feature settles it at once here
  // (semantic capture is off by default), so it is never replayed.
  assert.ok(['pending', 'skipped'].includes(done.semantic_capture), done.semantic_capture);
  assert.equal(done.outcome_preview, 'noted');
  const failed = await run(s, 'explode ' + 'x'.repeat(900));
  assert.equal(failed.status, 'failed');
  const [f] = await rows(failed.run_id);
  assert.ok(JSON.parse(f.failure_markers).includes('status:failed'));
  assert.ok(f.summary.length <= 480, 'the summary is capped');
  assert.match(f.summary, /Error: /);
});

test('concepts §4.9: the 4th entry is not in recovered memory with max_prompt_entries=3; a policy change prunes at once', async () => {
  await ok('POST', '/v1/runtime/run-memory-policy', { policy: {} }, 400);
  await ok('POST', '/v1/runtime/run-memory-policy', { policy: { max_prompt_entries: 3 } });
  const s = await createSession(d.url, 'mem-four');
  const ids: string[] = [];
  for (const word of ['alpha', 'bravo', 'charlie', 'delta'])
    ids.push((await run(s, `remember ${word}`)).run_id);
  const ctx = await ok('GET', `/v1/sessions/${s}/memory-context`);
  assert.deepEqual(
    ctx.recovered_memory.map((r: any) => r.run_id),
    ids.slice(1).reverse(),
    'the newest three, newest first, without a query',
  );
  for (const key of [
    'session_id',
    'effective_capability_scope',
    'learning_scopes',
    'learned_context',
    'visible_skills',
  ])
    assert.ok(key in ctx, `memory-context has ${key}`);
  const ranked = await ok('GET', `/v1/sessions/${s}/memory-context?query=alpha`);
  assert.equal(ranked.recovered_memory[0].run_id, ids[0], 'the query ranks the oldest first when it matches');
  assert.ok(ranked.recovered_memory[0].score > 0);
  await ok('POST', '/v1/runtime/run-memory-policy', {
    policy: { max_tracked_per_session: 2, max_prompt_entries: 2 },
  });
  const left = await queryState(
    d,
    'select run_id from run_memories where session_id = ? order by captured_at_ms',
    [s],
  );
  assert.deepEqual(
    left.map((r) => r.run_id),
    ids.slice(2),
  );
  await ok('POST', '/v1/runtime/run-memory-policy', { policy: { max_tracked_per_session: 64 } });
});

test('concepts §4.9: an email in the request appears redacted in memory-search; a deleted record does not fail the next run', async () => {
  const s = await createSession(d.url, 'mem-email');
  const r = await run(s, 'mail the invoice to jane.doe@example.com please');
  const found = await ok('GET', `/v1/sessions/${s}/memory-search?query=invoice`);
  const hit = found.results.find((x: any) => x.source_id === r.run_id);
  assert.ok(hit, JSON.stringify(found));
  assert.match(hit.excerpt, /\[redacted:email\]/);
  assert.doesNotMatch(JSON.stringify(found), /jane\.doe@example\.com/);
  await execState(d, `delete from run_memories where run_id = '${r.run_id}'`);
  assert.equal((await run(s, 'and then?')).status, 'completed');
  const status = await ok('GET', '/v1/status');
  assert.ok(status.run_memory.records > 0);
  assert.equal(status.run_memory.policy.max_tracked_per_session, 64);
  for (const key of ['injected_total', 'prompt_limit_omitted_total'])
    assert.equal(typeof status.run_memory.metrics[key], 'number');
  assert.equal(typeof status.session_memory.metrics.prompt_limit_omitted_total, 'number');
  assert.equal(status.run_memory.maintenance.source !== undefined, true);
  assert.equal(status.run_memory.maintenance.rebuilt, true);
});

test('memory-search: a query finds recovered runs by other forms of a word (plural, -ing, -ies) as the prompt ranking does', async () => {
  const s = await createSession(d.url, 'mem-forms');
  const done = await run(s, 'Rotate the TLS certificates of the staging cluster and review the policies');
  for (const query of ['certificate', 'staging', 'stage', 'policy', 'certificates']) {
    const found = await ok('GET', `/v1/sessions/${s}/memory-search?query=${query}`);
    const hit = found.results.find((r: any) => r.kind === 'recovered_run' && r.source_id === done.run_id);
    assert.ok(hit, `query ${query} finds the run: ${JSON.stringify(found.results)}`);
    assert.ok(hit.score > 0, `query ${query} scores`);
  }
  const none = await ok('GET', `/v1/sessions/${s}/memory-search?query=kubernetes`);
  assert.ok(!none.results.some((r: any) => r.kind === 'recovered_run'), 'an absent word finds no run');
});
