// The orchestration tools driven by the scripted driver: spawn_agent in the background and with
// wait, wait_agent (all/any, nicknames, timeout, cancellation), the listing tools, and a background
// child's outcome reaching its parent as a mailbox delivery run after the parent finished.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, readJournal, startDaemon, type TestDaemon, waitForRun } from '../helpers/daemon.ts';

const spawnCall = (args: Record<string, unknown>) => ({
  tool_calls: [{ name: 'spawn_agent', arguments: args }],
});
const call = (name: string, args: Record<string, unknown> = {}) => ({
  tool_calls: [{ name, arguments: args }],
});

const script = {
  rules: [
    { match: '^hold', turns: [{ hang: true }] },
    { match: '^slow child', turns: [{ delay_ms: 300, text: 'slow child done' }] },
    { match: '^quick child', turns: [{ text: 'quick result' }] },
    { match: '^Mailbox message', turns: [{ text: 'noted the outcome' }] },
    {
      match: '^bg parent',
      turns: [spawnCall({ name: 'bg', prompt: 'slow child' }), { text: 'parent done' }],
    },
    {
      match: '^timeout parent',
      turns: [
        spawnCall({ name: 'stuck', nickname: 'stuck', prompt: 'hold' }),
        call('wait_agent', { agent_ids: ['stuck'], timeout_ms: 200 }),
        call('list_agent_summaries', { status: 'running' }),
        { text: 'gave up waiting' },
      ],
    },
    {
      match: '^sync parent',
      turns: [spawnCall({ name: 'sync', prompt: 'quick child', wait: true }), { text: 'sync done' }],
    },
    {
      match: '^cancel parent',
      turns: [
        spawnCall({ name: 'held', prompt: 'hold' }),
        call('wait_agent', { timeout_ms: 600_000 }),
        { text: 'never' },
      ],
    },
    {
      match: '^nested parent',
      turns: [
        spawnCall({ name: 'mid', prompt: 'mid child', agent_type: 'coordination' }),
        call('wait_agent'),
        call('list_agents'),
        { text: 'nested done' },
      ],
    },
    {
      match: '^mid child',
      turns: [
        {
          tool_calls: [
            { name: 'spawn_agent', arguments: { name: 'leaf-1', prompt: 'quick child' } },
            { name: 'spawn_agent', arguments: { name: 'leaf-2', prompt: 'slow child' } },
          ],
        },
        call('wait_agent', { agent_ids: ['leaf-1', 'leaf-2'], mode: 'any' }),
        call('wait_agent', { agent_ids: ['leaf-1', 'leaf-2'] }),
        call('write_file', { path: 'mid.txt', content: 'x' }),
        { text: 'mid done' },
      ],
    },
  ],
  default: { turns: [{ text: 'ok' }] },
};

let d: TestDaemon;
let n = 0;
before(async () => {
  d = await startDaemon({ script });
});
after(async () => {
  await d.kill();
  d.cleanup();
});

async function run(content: string) {
  const sid = `tools-${++n}`;
  const s = await http(d.url, 'POST', '/v1/sessions', { session_id: sid });
  const r = await http(d.url, 'POST', `/v1/sessions/${sid}/runs`, { content });
  assert.equal(r.status, 202, r.text);
  return { sid, agent: s.body.agent_id as string, runId: r.body.run_id as string };
}

const results = (runId: string) =>
  readJournal(d.stateRoot, runId, 'tool_result').map((r) => ({
    ...r,
    json: r.is_error ? null : JSON.parse(r.content),
  }));

test('spawn_agent runs the child in the background; its outcome reaches the finished parent as a mailbox delivery run', async () => {
  const p = await run('bg parent');
  const done = await waitForRun(d.url, p.runId);
  assert.equal(done.status, 'completed');
  const [spawned] = results(p.runId);
  assert.equal(spawned.json.run_in_background, true);
  assert.equal(spawned.json.profile, 'default');
  const child = await waitForRun(d.url, spawned.json.launch_run_id);
  assert.equal(child.status, 'completed');
  let delivery: any;
  for (let i = 0; i < 200 && !delivery; i++) {
    const runs = (await http(d.url, 'GET', `/v1/runs?session_id=${p.sid}`)).body as any[];
    delivery = runs.find((r) => r.kind === 'mailbox_delivery');
    if (!delivery) await new Promise((r) => setTimeout(r, 25));
  }
  assert.ok(delivery, 'a mailbox_delivery run on the parent session');
  assert.equal(delivery.input_metadata.mailbox.kind, 'child_outcome');
  assert.equal(delivery.input_metadata.mailbox.message_id, `child-outcome-${child.run_id}`);
  const delivered = await waitForRun(d.url, delivery.run_id);
  assert.equal(delivered.outputs[0].content, 'noted the outcome');
});

test('wait_agent times out cleanly on a child that does not settle; list_agent_summaries filters the tree', async () => {
  const p = await run('timeout parent');
  const done = await waitForRun(d.url, p.runId);
  assert.equal(done.status, 'completed', done.error);
  const [spawned, waited, listed] = results(p.runId);
  assert.equal(waited.json.timed_out, true);
  assert.equal(waited.json.agents[0].agent_id, spawned.json.agent_id);
  assert.equal(waited.json.agents[0].status, 'running');
  assert.equal(waited.json.agents[0].settled, false);
  // Running: the calling parent itself and its stuck child.
  assert.deepEqual(
    listed.json.items.map((s: any) => s.agent_id).sort(),
    [p.agent, spawned.json.agent_id].sort(),
  );
  assert.equal(listed.json.counts.total, 2);
  await http(d.url, 'POST', `/v1/runs/${spawned.json.launch_run_id}/cancel`);
});

test('spawn_agent with wait returns the child final output', async () => {
  const p = await run('sync parent');
  assert.equal((await waitForRun(d.url, p.runId)).status, 'completed');
  const [spawned] = results(p.runId);
  assert.equal(spawned.json.status, 'completed');
  assert.equal(spawned.json.final_output, 'quick result');
  assert.equal(spawned.json.run_in_background, false);
});

test('wait_agent is cancellable: cancelling the waiting parent ends it at once', async () => {
  const p = await run('cancel parent');
  await waitForRun(d.url, p.runId, () => {
    const r = readJournal(d.stateRoot, p.runId, 'tool_result');
    return r.length === 1;
  });
  const cancelled = await http(d.url, 'POST', `/v1/runs/${p.runId}/cancel`);
  assert.equal(cancelled.body.status, 'cancelled');
  // The executor stopped: the session takes new work right away.
  const next = await http(d.url, 'POST', `/v1/sessions/${p.sid}/runs`, { content: 'plain' });
  assert.equal((await waitForRun(d.url, next.body.run_id)).status, 'completed');
  assert.equal(results(p.runId).length, 1, 'the wait never produced a result');
});

test('nested agents: a coordination child spawns, waits (any, then all) and lists; its profile blocks write_file', async () => {
  const p = await run('nested parent');
  assert.equal((await waitForRun(d.url, p.runId, undefined, 30_000)).status, 'completed');
  const [spawned, waited, listed] = results(p.runId);
  assert.equal(waited.json.agents[0].agent_id, spawned.json.agent_id);
  assert.equal(waited.json.agents[0].output_preview, 'mid done');
  const tree = listed.json as any[];
  assert.deepEqual(
    tree.map((a) => a.depth),
    [0, 1, 2, 2],
  );
  assert.equal(tree[1].agent.profile, 'coordination');
  const mid = results(spawned.json.launch_run_id);
  assert.equal(mid[2].json.mode, 'any');
  assert.ok(mid[2].json.settled_count >= 1);
  assert.equal(mid[3].json.timed_out, false);
  assert.deepEqual(
    mid[3].json.agents.map((a: any) => [a.name, a.status]),
    [
      ['leaf-1', 'completed'],
      ['leaf-2', 'completed'],
    ],
  );
  assert.equal(mid[4].is_error, true);
  assert.match(mid[4].content, /not in this agent's tool surface/);
});
