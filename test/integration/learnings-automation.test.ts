// Automatic review of learning candidates in a daemon (api-collab §4.5): `enabled` mode publishes,
// rejects and escalates through the rules and guards; the model judge runs through a real OpenAI
// route against a local wire server, clamped to the policy envelope, failing closed to
// manual_review and recorded in automation_review.judge; verification downgrades unverifiable
// active publications; candidate and learning changes are durable events without content.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertProblem, openSse } from '../conformance/support.ts';
import type { FixtureServer } from '../fixtures/providers/harness.ts';
import { http, type TestDaemon } from '../helpers/daemon.ts';
import { startOpenAiRouteDaemon } from '../helpers/openai-route.ts';

let openai: FixtureServer;
let d: TestDaemon;
let stop: (() => Promise<void>) | undefined;
before(async () => {
  ({ daemon: d, openai, stop } = await startOpenAiRouteDaemon('kheish-learnings-routes-'));
});
after(() => stop?.());

async function ok(method: string, path: string, body?: unknown, status = 200) {
  const res = await http(d.url, method, path, body);
  assert.equal(res.status, status, `${method} ${path}: ${res.text}`);
  return res.body;
}
const setPolicy = (policy: Record<string, unknown>) => ok('POST', '/v1/runtime/learning-policy', { policy });
const candidate = (content: string, extra: Record<string, unknown> = {}) =>
  ok(
    'POST',
    '/v1/learning-candidates',
    { scope: { kind: 'workspace' }, kind: 'fact', content, ...extra },
    201,
  );
const FACTS_ACTIVE = [{ name: 'facts', kind: 'fact', action: 'publish_active', expires_after_ms: 3_600_000 }];

test('enabled mode: an API-origin active rule publishes provisional; manual_only leaves no review', async () => {
  await setPolicy({ mode: 'manual_only', publication: { rules: FACTS_ACTIVE } });
  const untouched = await candidate('Queue depth alarm is 500');
  assert.equal(untouched.automation_review, null);
  assert.equal(untouched.state, 'pending');

  await setPolicy({ mode: 'enabled', publication: { rules: FACTS_ACTIVE } });
  const c = await candidate('Primary region is eu-west');
  assert.equal(c.state, 'published');
  assert.equal(c.automation_review.mode, 'enabled');
  assert.equal(c.automation_review.action, 'publish_provisional');
  assert.equal(c.automation_review.matched_rule_name, 'facts');
  assert.match(c.automation_review.reason, /API-origin/);
  const l = await ok('GET', `/v1/learnings/${c.published_learning_id}`);
  assert.equal(l.status, 'provisional');
  assert.equal(l.policy_decision, 'automatic');
  assert.equal(l.policy_actor, 'policy');
  assert.equal(l.matched_rule_name, 'facts');
  assert.ok(l.expires_at_ms > Date.now() + 3_000_000, 'expires_after_ms of the rule');
  const byRule = await ok('GET', '/v1/learnings?matched_rule_name=facts&policy_decision=automatic');
  assert.ok(byRule.some((x: any) => x.learning_id === l.learning_id));
  // Switching automation on reviewed the candidate that waited under manual_only.
  let waited: any;
  for (let i = 0; i < 50; i++) {
    waited = await ok('GET', `/v1/learning-candidates/${untouched.candidate_id}`);
    if (waited.automation_review) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(waited.state, 'published');
});

test('verification: an allowed API-origin publish_active without run-memory support lands provisional, failed', async () => {
  await setPolicy({
    mode: 'enabled',
    publication: { rules: FACTS_ACTIVE, allow_api_origin_active_publication: true },
  });
  const c = await candidate('Canary fleet is 5 percent', { source: { run_id: 'run-unknown' } });
  assert.equal(c.automation_review.action, 'publish_provisional');
  assert.match(c.automation_review.reason, /verification failed/);
  const l = await ok('GET', `/v1/learnings/${c.published_learning_id}`);
  assert.equal(l.status, 'provisional');
  assert.equal(l.verification_status, 'failed');
});

test('conflict: automatic active publication against a same-subject active learning escalates', async () => {
  await setPolicy({ mode: 'manual_only' });
  const first = await candidate('Deploy day is Monday');
  await ok('POST', `/v1/learning-candidates/${first.candidate_id}/publish`, {});
  await setPolicy({
    mode: 'enabled',
    publication: { rules: FACTS_ACTIVE, allow_api_origin_active_publication: true },
  });
  const c = await candidate('Deploy day is Friday');
  assert.equal(c.state, 'escalated');
  assert.equal(c.automation_review.action, 'manual_review');
  // An escalated candidate still publishes by hand, with supersedes naming the old learning.
  assertProblem(
    await http(d.url, 'POST', `/v1/learning-candidates/${c.candidate_id}/publish`, {}),
    409,
    'learnings',
    'learning_conflict',
  );
});

test('judge: runs on the route, is clamped to the envelope, fails closed, and is stored in automation_review.judge', async () => {
  await setPolicy({
    mode: 'enabled',
    publication: { rules: [{ name: 'prov', kind: 'decision', action: 'publish_provisional' }] },
    judge: { enabled: true, model: 'gpt', timeout_ms: 10_000 },
  });
  const before = openai.requests.length;
  openai.enqueue({ kind: 'text', deltas: ['{"action": "reject", ', '"reason": "too temporary"}'] });
  const rejected = await candidate('Ship on Friday this week', { kind: 'decision' });
  assert.equal(openai.requests.length, before + 1, 'the judge called the route');
  assert.equal(rejected.state, 'rejected');
  assert.equal(rejected.automation_review.judge.action, 'reject');
  assert.equal(rejected.automation_review.judge.reason, 'too temporary');

  openai.enqueue({ kind: 'text', deltas: ['{"action":"publish_active","reason":"solid"}'] });
  const clamped = await candidate('Adopt trunk based development', { kind: 'decision' });
  assert.equal(clamped.automation_review.action, 'publish_provisional');
  assert.equal(clamped.automation_review.judge.action, 'publish_provisional');
  const l = await ok('GET', `/v1/learnings/${clamped.published_learning_id}`);
  assert.equal(l.status, 'provisional');
  assert.equal(l.policy_actor, 'judge');

  openai.enqueue({ kind: 'error', status: 400, message: 'judge route broken' });
  const failed = await candidate('Freeze merges during incidents', { kind: 'decision' });
  assert.equal(failed.state, 'escalated');
  assert.equal(failed.automation_review.action, 'manual_review');
  assert.match(failed.automation_review.judge.reason, /judge failed/);
  await setPolicy({ mode: 'shadow' });
});

test('shadow mode records the review and leaves the candidate pending; events carry no content', async () => {
  const sse = await openSse(`${d.url}/v1/events/stream`);
  await setPolicy({ mode: 'shadow', publication: { rules: FACTS_ACTIVE } });
  const c = await candidate('Oncall rotation is weekly');
  assert.equal(c.state, 'pending');
  assert.equal(c.automation_review.mode, 'shadow');
  assert.equal(c.automation_review.action, 'publish_provisional');
  assert.equal(c.published_learning_id, null);
  const l = await ok('POST', `/v1/learning-candidates/${c.candidate_id}/publish`, {});
  await sse.waitFor(
    (fs) => fs.some((f) => f.event === 'learning_updated' && f.data.learning_id === l.learning_id),
    'the learning event',
  );
  sse.close();
  const mine = sse.frames.filter(
    (f) => f.data?.candidate_id === c.candidate_id || f.data?.learning_id === l.learning_id,
  );
  assert.deepEqual(
    mine.map((f) => `${f.event}:${f.data.state ?? f.data.status}`),
    [
      'learning_candidate_updated:pending',
      'learning_candidate_updated:pending',
      'learning_updated:active',
      'learning_candidate_updated:published',
    ],
  );
  for (const f of mine) assert.ok(!JSON.stringify(f.data).includes('Oncall'), 'no content in events');
});
