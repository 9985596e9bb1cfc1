// Spawn quotas (ops-runtime §2.4): each quota, set low with its `serve` flag, denies the spawn that
// would exceed it with 429 subagent_policy/spawn_policy_denied (api-core §1.3.1), inside the spawn
// transaction; GET /v1/runtime shows the effective policy and the dry run reports every check.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { http, startDaemon, type TestDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';
import { journalPayloads } from '../helpers/state-query.ts';
import { assertProblem } from './support.ts';

const script = {
  rules: [
    { match: '^hold', turns: [{ hang: true }] },
    { match: '^spend', turns: [{ text: 'spent', usage: { input_tokens: 1, output_tokens: 50 } }] },
    {
      match: '^fan out',
      turns: [
        {
          tool_calls: [
            { name: 'spawn_agent', arguments: { name: 'one', prompt: 'hold' } },
            { name: 'spawn_agent', arguments: { name: 'two', prompt: 'hold' } },
          ],
        },
        { text: 'fanned out' },
      ],
    },
  ],
  default: { turns: [{ text: 'ok' }] },
};

let n = 0;
async function primary(d: TestDaemon): Promise<{ sid: string; agent: string }> {
  const sid = `quota-${++n}`;
  const res = await http(d.url, 'POST', '/v1/sessions', { session_id: sid });
  return { sid, agent: res.body.agent_id };
}

const spawn = (d: TestDaemon, parent: string, body: Record<string, unknown> = {}) =>
  http(d.url, 'POST', `/v1/agents/${parent}/sidechains`, body);

function denied(res: Awaited<ReturnType<typeof spawn>>, quota: string): void {
  assertProblem(res, 429, 'subagent_policy', 'spawn_policy_denied', quota);
  assert.match(res.body.detail, new RegExp(`denied by ${quota}\\b`), res.body.detail);
}

async function live(d: TestDaemon, parent: string, name: string) {
  const res = await spawn(d, parent, { subtask: { name, content: 'hold' } });
  assert.equal(res.status, 201, res.text);
  await waitForRun(d.url, res.body.launch_run_id, (r) => r.status === 'running');
  return res.body;
}

describe('tree and size quotas', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon({
      script,
      args: [
        '--max-child-depth',
        '2',
        '--max-live-children-per-parent',
        '2',
        '--max-live-descendants-per-root',
        '3',
        '--max-spawn-input-tokens-per-request',
        '100',
        '--max-spawn-output-tokens-per-request',
        '1000',
        '--max-spawns-per-profile-window',
        '6',
      ],
      env: { KHEISH_MAX_SPAWNS_PER_RUN: '1' },
    });
  });
  after(async () => {
    await d.kill();
    await d.cleanup();
  });

  test('GET /v1/runtime shows the effective policy (flags and environment)', async () => {
    const p = (await http(d.url, 'GET', '/v1/runtime')).body.subagent_policy;
    assert.equal(p.max_child_depth, 2);
    assert.equal(p.max_live_children_per_parent, 2);
    assert.equal(p.max_spawns_per_run, 1, 'from KHEISH_MAX_SPAWNS_PER_RUN');
    assert.equal(p.max_live_sidechains_global, 128, 'default');
  });

  test('live children per parent, live descendants per root and child depth', async () => {
    const root = await primary(d);
    const c1 = await live(d, root.agent, 'c1');
    const c2 = await live(d, root.agent, 'c2');
    denied(
      await spawn(d, root.agent, { subtask: { name: 'c3', content: 'hold' } }),
      'max_live_children_per_parent',
    );
    const g1 = await live(d, c1.agent_id, 'g1');
    denied(
      await spawn(d, c2.agent_id, { subtask: { name: 'g2', content: 'hold' } }),
      'max_live_descendants_per_root',
    );
    denied(await spawn(d, g1.agent_id), 'max_child_depth');
    // A settled child frees its slot.
    await http(d.url, 'POST', `/v1/runs/${c2.launch_run_id}/cancel`);
    assert.equal((await spawn(d, root.agent, { subtask: { name: 'c3', content: 'hold' } })).status, 201);
  });

  test('per-request input and output token caps', async () => {
    const root = await primary(d);
    denied(
      await spawn(d, root.agent, { subtask: { name: 'big', content: 'x'.repeat(1000) } }),
      'max_spawn_input_tokens_per_request',
    );
    denied(
      await spawn(d, root.agent, { generation: { max_output_tokens: 5000 } }),
      'max_spawn_output_tokens_per_request',
    );
  });

  test('spawns per profile and window, with Retry-After', async () => {
    const root = await primary(d);
    for (let i = 0; i < 6; i++)
      assert.equal((await spawn(d, root.agent, { profile: 'planning' })).status, 201);
    const res = await spawn(d, root.agent, { profile: 'planning' });
    denied(res, 'max_spawns_per_profile_window');
    assert.equal(res.headers.get('retry-after'), '60');
  });

  test('spawns per run: the spawn_agent tool gets the denial as its result, the run goes on', async () => {
    const root = await primary(d);
    const run = (await http(d.url, 'POST', `/v1/sessions/${root.sid}/runs`, { content: 'fan out' })).body;
    const done = await waitForRun(d.url, run.run_id);
    assert.equal(done.status, 'completed');
    const snap = (await http(d.url, 'GET', `/v1/agents/${root.agent}`)).body;
    assert.equal(snap.children.length, 1, 'one spawn per run');
    const results = await journalPayloads(d, run.run_id, 'tool_result');
    assert.equal(results[0].is_error, false);
    assert.equal(results[1].is_error, true);
    assert.match(results[1].content, /spawn_policy_denied: spawn denied by max_spawns_per_run/);
    const explain = (await http(d.url, 'POST', `/v1/agents/${root.agent}/sidechains/explain`, {})).body;
    const names = explain.quotas.map((q: { quota: string }) => q.quota);
    for (const q of [
      'max_child_depth',
      'max_live_children_per_parent',
      'max_live_descendants_per_root',
      'max_live_sidechains_global',
      'max_live_sidechains_per_session',
      'max_spawns_per_session_window',
      'max_spawns_per_profile_window',
      'max_spawns_per_project_window',
      'max_spawns_global_window',
      'max_spawn_cost_microusd_per_window',
      'max_spawn_cpu_ms_per_window',
      'max_spawn_input_tokens_per_request',
      'model_budget_max_total_output_tokens',
      'model_budget_max_total_cost_usd',
    ])
      assert.ok(names.includes(q), `explain reports ${q}`);
  });
});

describe('windowed spend and model budget quotas', () => {
  let d: TestDaemon;
  const dir = tempDir('kheish-policy-');
  before(async () => {
    // The policy file sets the estimates; a flag overrides the file.
    writeFileSync(
      join(dir, 'policy.toml'),
      '[subagent_policy]\nestimated_spawn_cost_microusd = 400\nmax_spawn_cost_microusd_per_window = 1\nmax_spawns_global_window = 3\n',
    );
    d = await startDaemon({
      script,
      args: [
        '--subagent-policy-file',
        join(dir, 'policy.toml'),
        '--max-spawn-cost-microusd-per-window',
        '1000',
        '--model-budget-max-total-output-tokens',
        '40',
      ],
    });
  });
  after(async () => {
    await d.kill();
    await d.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the model budget of an agent tree, then the estimated spawn cost per window', async () => {
    const policy = (await http(d.url, 'GET', '/v1/runtime')).body.subagent_policy;
    assert.equal(policy.estimated_spawn_cost_microusd, 400, 'from the policy file');
    assert.equal(policy.max_spawn_cost_microusd_per_window, 1000, 'the flag beats the file');
    assert.ok(policy.policy_file.endsWith('policy.toml'));
    const spender = await primary(d);
    const run = (await http(d.url, 'POST', `/v1/sessions/${spender.sid}/runs`, { content: 'spend' })).body;
    await waitForRun(d.url, run.run_id);
    denied(await spawn(d, spender.agent), 'model_budget_max_total_output_tokens');
    const other = await primary(d);
    assert.equal((await spawn(d, other.agent)).status, 201);
    assert.equal((await spawn(d, other.agent)).status, 201);
    denied(await spawn(d, other.agent), 'max_spawn_cost_microusd_per_window');
  });

  test('a bad quota value refuses to start the daemon', async () => {
    await assert.rejects(
      startDaemon({ args: ['--max-child-depth', 'deep'] }),
      /--max-child-depth must be a whole number/,
    );
  });
});
