// Route resilience and accounting, seen through the API: per-call timeouts, fallback routes,
// retry/fallback trace events, usage and cost on the RunView, budgets per run and per session.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { collectSse, http, startDaemon, type TestDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';

const dir = tempDir('kheish-routes-');
writeFileSync(
  join(dir, 'primary.json'),
  JSON.stringify({
    rules: [
      {
        match: 'timeout',
        turns: [
          { delay_ms: 5000, text: 'too late' },
          { delay_ms: 5000, text: 'late again' },
        ],
      },
      { match: 'down', turns: [{ error: { status: 500 } }, { error: { status: 502 } }] },
      { match: 'tokens', turns: [{ text: 'a', usage: { input_tokens: 600, output_tokens: 500 } }] },
      {
        match: 'expensive',
        turns: [
          { tool_calls: [{ name: 'noop' }], usage: { input_tokens: 1_000_000, output_tokens: 0 } },
          { text: 'never' },
        ],
      },
      {
        match: 'slowloop',
        turns: [
          { delay_ms: 150, tool_calls: [{ name: 'noop' }] },
          { delay_ms: 150, tool_calls: [{ name: 'noop' }] },
          { delay_ms: 150, tool_calls: [{ name: 'noop' }] },
          { text: 'done' },
        ],
      },
    ],
    default: { turns: [{ text: 'primary ok', usage: { input_tokens: 10, output_tokens: 5 } }] },
  }),
);
writeFileSync(join(dir, 'backup.json'), JSON.stringify({ default: { turns: [{ text: 'from backup' }] } }));
const routes = `version = 1
default_route = "primary"

[routes.primary]
driver = "scripted"
default_model = "priced-model"
script_file = "primary.json"
timeout_ms = 300
max_retries = 1
fallback_routes = ["backup"]
pricing = { input_usd_per_mtok = 2.0, output_usd_per_mtok = 10.0 }

[routes.backup]
driver = "scripted"
default_model = "backup-model"
script_file = "backup.json"
`;
writeFileSync(join(dir, 'routes.toml'), routes);

let d: TestDaemon;
before(async () => {
  d = await startDaemon({ args: ['--routes-file', join(dir, 'routes.toml')] });
});
after(async () => {
  await d.kill();
  d.cleanup();
});

let n = 0;
async function run(content: string, extra: Record<string, unknown> = {}, session = `s${++n}`) {
  await http(d.url, 'POST', '/v1/sessions', { session_id: session });
  const r = await http(d.url, 'POST', `/v1/sessions/${session}/runs`, { content, ...extra });
  assert.equal(r.status, 202, r.text);
  return waitForRun(d.url, r.body.run_id);
}

test('a call over the route timeout is retried, then the fallback route answers; every step is a trace event', async () => {
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'fb' });
  const submitted = await http(d.url, 'POST', '/v1/sessions/fb/runs', { content: 'timeout please' });
  const done = await waitForRun(d.url, submitted.body.run_id);
  assert.equal(done.status, 'completed');
  assert.equal(done.outputs[0].content, 'from backup');
  const stream = await collectSse(`${d.url}/v1/runs/${done.run_id}/stream?cursor=0`, {
    until: (f) => f.some((x) => x.event === 'run_updated' && x.data.run.status === 'completed'),
  });
  const kinds = stream.frames.filter((f) => f.event === 'trace').map((f) => f.data.trace.kind);
  // Replayed after the run ended: durable traces only (docs/events.md).
  assert.deepEqual(kinds, ['model_retry', 'model_error', 'route_fallback', 'model_turn_finished']);
  const answered = stream.frames.find(
    (f) => f.event === 'trace' && f.data.trace.kind === 'model_turn_finished',
  )!;
  assert.equal(answered.data.trace.route_id, 'backup');
  const fallback = stream.frames.find((f) => f.event === 'trace' && f.data.trace.kind === 'route_fallback')!;
  assert.equal(fallback.data.trace.route_id, 'backup');
  assert.match(
    stream.frames.find((f) => f.event === 'trace' && f.data.trace.kind === 'model_retry')!.data.trace.message,
    /timed out after 300 ms/,
  );
});

test('5xx errors exhaust the retries and fall back; request.provider stays the pinned route', async () => {
  const done = await run('down');
  assert.equal(done.status, 'completed');
  assert.equal(done.outputs[0].content, 'from backup');
  assert.equal(done.request.provider, 'primary');
  assert.equal(done.usage.model_calls, 3);
});

test('usage and cost are summed on the RunView and in /v1/status', async () => {
  const done = await run('hello');
  assert.deepEqual(
    { ...done.usage },
    {
      model_calls: 1,
      input_tokens: 10,
      output_tokens: 5,
      cached_input_tokens: 0,
      total_tokens: 15,
      cost_usd: 0.00007,
      unpriced_calls: 0,
    },
  );
  const status = await http(d.url, 'GET', '/v1/status');
  assert.ok(status.body.runs.usage.total_tokens >= 15);
  assert.ok(status.body.runs.usage.cost_usd >= 0.00007);
});

test('run budgets: total tokens, cost and wall time fail the run with budget_exhausted naming the budget', async () => {
  const tokens = await run('tokens then more', { budget: { max_total_tokens: 1000 } });
  assert.equal(tokens.status, 'completed', 'the budget is checked before a call, so one call may cross it');
  const cost = await run('expensive', { budget: { max_cost_usd: 1 } });
  assert.equal(cost.status, 'failed');
  assert.equal(cost.error_code, 'budget_exhausted');
  assert.match(cost.error, /run cost_usd \(used 2 of 1 USD\)/);
  const wall = await run('slowloop', { budget: { max_wall_time_ms: 250 } });
  assert.equal(wall.status, 'failed');
  assert.match(wall.error, /budget_exhausted: run wall_time/);
});

test('session budgets sum all runs of the session', async () => {
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'sb' });
  const set = await http(d.url, 'PUT', '/v1/sessions/sb/budget', { budget: { max_total_tokens: 20 } });
  assert.equal(set.status, 200);
  assert.deepEqual(set.body.budget, { max_total_tokens: 20 });
  assert.equal((await run('one', {}, 'sb')).status, 'completed');
  const second = await run('two', {}, 'sb');
  assert.equal(second.status, 'completed', '15 tokens used of 20: still allowed');
  const third = await run('three', {}, 'sb');
  assert.equal(third.status, 'failed');
  assert.match(third.error, /budget_exhausted: session total_tokens \(used 30 of 20 tokens\)/);
  const bad = await http(d.url, 'PUT', '/v1/sessions/sb/budget', { budget: { max_turns: 0 } });
  assert.equal(bad.status, 400);
});
