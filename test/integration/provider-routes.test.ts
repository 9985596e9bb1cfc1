// Real provider drivers inside a real daemon, against local servers speaking each provider's
// wire format: credentials, readiness, the tool loop, retries and cancellation end to end.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startAnthropicServer } from '../fixtures/providers/anthropic-server.ts';
import type { FixtureServer } from '../fixtures/providers/harness.ts';
import { startOpenAiServer } from '../fixtures/providers/openai-server.ts';
import { http, startDaemon, type TestDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';

const KEY = 'sk-ant-test-0123456789-secret';
let anthropic: FixtureServer;
let openai: FixtureServer;
let d: TestDaemon;

before(async () => {
  anthropic = await startAnthropicServer();
  openai = await startOpenAiServer();
  const dir = tempDir('kheish-routes-');
  writeFileSync(
    join(dir, 'routes.toml'),
    `version = 1
default_route = "claude"

[routes.claude]
driver = "anthropic"
default_model = "claude-sonnet-4-6"
api_key_env = "TEST_ANTHROPIC_KEY"
base_url = "${anthropic.origin}"

[routes.gpt]
driver = "openai"
default_model = "gpt-5.4"
api_key_env = "TEST_OPENAI_KEY_UNSET"
base_url = "${openai.origin}"
`,
  );
  d = await startDaemon({
    args: ['--routes-file', join(dir, 'routes.toml')],
    env: { TEST_ANTHROPIC_KEY: KEY },
  });
});
after(async () => {
  await d.kill();
  d.cleanup();
  await anthropic.close();
  await openai.close();
});

test('anthropic route: a tool-call turn and a text turn through the real SDK; usage and cost recorded', async () => {
  anthropic.enqueue(
    { kind: 'tool_call', id: 'toolu_1', name: 'noop', args: { a: 1 }, usage: { input: 100, output: 20 } },
    { kind: 'text', deltas: ['All ', 'done.'], usage: { input: 150, output: 10, cached: 100 } },
  );
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'claude' });
  const submitted = await http(d.url, 'POST', '/v1/sessions/claude/runs', {
    content: 'use the tool',
    generation: { temperature: 0.2 },
  });
  assert.equal(submitted.status, 202, submitted.text);
  const run = await waitForRun(d.url, submitted.body.run_id);
  assert.equal(run.status, 'completed', run.error);
  assert.deepEqual(
    run.outputs.map((o: { content: string }) => o.content),
    ['All done.'],
  );
  assert.deepEqual([run.request.provider, run.request.model], ['claude', 'claude-sonnet-4-6']);
  assert.equal(run.usage.model_calls, 2);
  assert.equal(run.usage.input_tokens, 250);
  assert.equal(run.usage.cached_input_tokens, 100);
  assert.ok(run.usage.cost_usd > 0, 'claude-sonnet-4-6 is in the price table');
  const [first, second] = anthropic.requests.slice(-2);
  assert.equal(first!.headers['x-api-key'], KEY);
  assert.equal(first!.body.temperature, 0.2);
  const toolResult = second!.body.messages
    .flatMap((m: { content: unknown }) => (Array.isArray(m.content) ? m.content : []))
    .find((c: { type: string }) => c.type === 'tool_result');
  assert.ok(toolResult, 'the second request carries the tool result');
  assert.equal(toolResult.is_error, true, 'no tool named noop exists yet, so the result is an error');
});

test('a 429 from the provider is retried by the engine (once per attempt) and the run completes', async () => {
  anthropic.enqueue(
    { kind: 'error', status: 429, headers: { 'retry-after': '0' } },
    { kind: 'text', deltas: ['ok'] },
  );
  const before = anthropic.requests.length;
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'retry' });
  const run = await waitForRun(
    d.url,
    (await http(d.url, 'POST', '/v1/sessions/retry/runs', { content: 'x' })).body.run_id,
  );
  assert.equal(run.status, 'completed');
  assert.equal(anthropic.requests.length - before, 2, 'the SDK does not retry on its own');
});

test('cancelling a run aborts the in-flight HTTP request to the provider', async () => {
  anthropic.enqueue({ kind: 'hang', deltas: ['thinking'] });
  const sent = anthropic.requests.length;
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'hang' });
  const id = (await http(d.url, 'POST', '/v1/sessions/hang/runs', { content: 'x' })).body.run_id;
  await waitForRun(d.url, id, (r) => r.status === 'running');
  for (let i = 0; i < 150 && anthropic.requests.length === sent; i++)
    await new Promise((r) => setTimeout(r, 20));
  const request = anthropic.requests.at(-1)!;
  assert.equal((await http(d.url, 'POST', `/v1/runs/${id}/cancel`)).body.status, 'cancelled');
  await Promise.race([
    request.closed,
    new Promise((_, rej) => setTimeout(() => rej(new Error('provider connection still open')), 3000)),
  ]);
});

test('a route whose key is missing is not ready: the submit is refused with the action to take', async () => {
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'gpt' });
  const r = await http(d.url, 'POST', '/v1/sessions/gpt/runs', { content: 'x', provider: 'gpt' });
  assert.equal(r.status, 409);
  assert.equal(r.body.code, 'route_not_ready');
  assert.match(r.body.detail, /TEST_OPENAI_KEY_UNSET/);
  assert.match(r.body.detail, /Action: export TEST_OPENAI_KEY_UNSET=<key>/);
  const routes = (await http(d.url, 'GET', '/v1/runtime/routes')).body;
  assert.deepEqual(
    routes.map((x: { route_id: string; readiness: string }) => [x.route_id, x.readiness]),
    [
      ['claude', 'ok'],
      ['gpt', 'error'],
    ],
  );
});

test('the provider key never appears in API responses or daemon logs', async () => {
  for (const p of [
    '/v1/runtime',
    '/v1/runtime/routes',
    '/v1/status',
    '/v1/runs',
    '/v1/sessions/claude/events',
  ])
    assert.ok(!(await http(d.url, 'GET', p)).text.includes(KEY), p);
  assert.ok(!d.logs().includes(KEY));
});
