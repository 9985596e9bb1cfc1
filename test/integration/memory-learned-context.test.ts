// learned_context and learning search results with real learnings (concepts §4.10, api-core §3.5,
// api-collab §4.4), seeded through the public /v1/learning-candidates API — no fake port — on a
// session with a bound persona and a project, so every scope kind takes part.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FixtureServer } from '../fixtures/providers/harness.ts';
import { http, type TestDaemon } from '../helpers/daemon.ts';
import { promptOf } from '../helpers/memory-prompt.ts';
import { startOpenAiRouteDaemon } from '../helpers/openai-route.ts';

let openai: FixtureServer;
let d: TestDaemon;
let stop: (() => Promise<void>) | undefined;

async function ok(method: string, path: string, body?: unknown, status?: number) {
  const res = await http(d.url, method, path, body);
  if (status !== undefined) assert.equal(res.status, status, `${method} ${path}: ${res.text}`);
  else assert.ok(res.status >= 200 && res.status < 300, `${method} ${path}: ${res.status} ${res.text}`);
  return res.body;
}

/** A published learning: candidate, then the operator's publish (manual, active unless told). */
async function publish(
  scope: { kind: string; id: string },
  content: string,
  extra: Record<string, unknown> = {},
) {
  const { publish_tier, ...candidate } = extra;
  const c = await ok('POST', '/v1/learning-candidates', { scope, kind: 'fact', content, ...candidate });
  const p = await ok(
    'POST',
    `/v1/learning-candidates/${c.candidate_id}/publish`,
    publish_tier ? { publish_tier } : {},
  );
  return (p.learning_id ?? p.published_learning_id ?? p.learning?.learning_id) as string;
}

const ids: Record<string, string> = {};

before(async () => {
  ({ daemon: d, openai, stop } = await startOpenAiRouteDaemon('kheish-memory-learned-'));
  await ok('POST', '/v1/personas', { persona_id: 'pp', display_name: 'PP', soul: 'Helpful.' }, 201);
  await ok('POST', '/v1/sessions', { session_id: 'lc', persona_id: 'pp' }, 201);
  await ok('POST', '/v1/sessions', { session_id: 'other' }, 201);
  await ok('POST', '/v1/projects', {
    project_id: 'px',
    display_name: 'PX',
    members: [{ member_id: 'm-lc', member_kind: 'session', display_name: 'lc', session_id: 'lc' }],
  });
  const ws = { kind: 'workspace', id: 'default' };
  ids.deploy = await publish(ws, 'The deploy target is the blue cluster');
  ids.persona = await publish({ kind: 'persona', id: 'pp' }, 'Answers are written in plain French', {
    kind: 'preference',
  });
  ids.project = await publish({ kind: 'project', id: 'px' }, 'Billing data lives in postgres', {
    kind: 'decision',
  });
  ids.session = await publish({ kind: 'session', id: 'lc' }, 'The release codename is Orion');
  ids.foreign = await publish({ kind: 'session', id: 'other' }, 'The other codename is Vega');
  ids.sensitive = await publish(ws, 'The blue cluster bastion is bastion-7', { sensitivity: 'sensitive' });
  ids.provisional = await publish(ws, 'The blue cluster autoscaler is off', { publish_tier: 'provisional' });
  ids.revoked = await publish(ws, 'The green cluster is the deploy target');
  await ok('POST', `/v1/learnings/${ids.revoked}/revoke`, { reason: 'wrong' });
});
after(() => stop?.());

test('memory-context: scopes in resolution order; learned_context holds only eligible learnings of them', async () => {
  const ctx = await ok('GET', '/v1/sessions/lc/memory-context');
  assert.deepEqual(ctx.learning_scopes, [
    { kind: 'session', id: 'lc' },
    { kind: 'persona', id: 'pp' },
    { kind: 'project', id: 'px' },
    { kind: 'workspace', id: 'default' },
  ]);
  const shown = new Set(ctx.learned_context.map((l: any) => l.learning_id));
  for (const k of ['deploy', 'persona', 'project', 'session']) assert.ok(shown.has(ids[k]), k);
  for (const k of ['foreign', 'sensitive', 'provisional', 'revoked']) assert.ok(!shown.has(ids[k]), k);
  const ranked = await ok('GET', '/v1/sessions/lc/memory-context?query=where%20does%20billing%20data%20live');
  assert.deepEqual(
    ranked.learned_context.map((l: any) => l.learning_id),
    [ids.project],
    'zero-score learnings are dropped when one scores',
  );
});

test('learned_context in the prompt: relevant only; nothing for unrelated input; recency fallback for memory requests', async () => {
  const deploy = await promptOf(d, openai, 'lc', 'Which cluster is the deploy target?');
  assert.match(deploy.system, /# learned_context/);
  assert.match(deploy.system, /blue cluster/);
  assert.doesNotMatch(deploy.system, /bastion-7|autoscaler|green cluster|Vega/);
  const unrelated = await promptOf(d, openai, 'lc', 'Write a haiku about autumn leaves');
  assert.doesNotMatch(unrelated.system, /# learned_context/);
  const asked = await promptOf(d, openai, 'lc', 'Use what you remember about this work');
  for (const text of ['blue cluster', 'plain French', 'postgres', 'Orion'])
    assert.match(asked.system, new RegExp(text));
  const status = (await http(d.url, 'GET', '/v1/status')).body;
  assert.equal(typeof status.session_memory.metrics.prompt_limit_omitted_total, 'number');
});

test('memory-search: learnings by score with matched_fields; sensitive never; provisional shown but not prompt-eligible', async () => {
  const found = await ok('GET', '/v1/sessions/lc/memory-search?query=blue%20cluster');
  const learnings = found.results.filter((r: any) => r.kind === 'learning');
  const byId = new Map(learnings.map((r: any) => [r.source_id, r]));
  assert.ok(!byId.has(ids.sensitive), 'sensitive learnings are never searchable');
  assert.equal((byId.get(ids.deploy) as any)?.prompt_eligible, true);
  assert.deepEqual((byId.get(ids.deploy) as any)?.matched_fields, ['content']);
  assert.equal((byId.get(ids.provisional) as any)?.prompt_eligible, false);
  assert.equal((byId.get(ids.provisional) as any)?.publish_tier, 'provisional');
  const byScope = await ok('GET', '/v1/sessions/lc/memory-search?query=workspace');
  assert.ok(byScope.results.some((r: any) => r.kind === 'learning' && r.matched_fields.includes('scope')));
  const browse = await ok('GET', '/v1/sessions/lc/memory-search');
  assert.ok(browse.results.some((r: any) => r.source_id === ids.session));
  assert.ok(
    !browse.results.some((r: any) => r.source_id === ids.foreign),
    'another session scope is not visible',
  );
});
