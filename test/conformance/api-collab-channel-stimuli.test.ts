// Channel stimuli and thread-work conformance (api-collab §1.8, §1.9, §1.12; checklist #12, #13;
// decisions 355-365). Run on SQLite and, with KHEISH_TEST_STORE=postgres, on PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon, waitForRun } from '../helpers/daemon.ts';
import { journalPayloads } from '../helpers/state-query.ts';
import { assertProblem, createSession } from './support.ts';

let d: TestDaemon;
const base = () => d.url;

before(async () => {
  d = await startDaemon({
    env: { KHEISH_STIMULUS_TICK_MS: '100' },
    script: {
      rules: [
        {
          match: 'spawn a worker',
          turns: [
            {
              tool_calls: [
                { name: 'spawn_agent', arguments: { name: 'worker', prompt: 'work once', wait: true } },
              ],
            },
            { text: 'spawned' },
          ],
        },
        {
          match: 'outsider reads',
          turns: [
            {
              tool_calls: [
                { name: 'read_channel_thread', arguments: { channel_id: 's-tools' } },
                { name: 'create_channel_stimulus', arguments: { channel_id: 's-tools', content: 'hi' } },
              ],
            },
            { text: 'done' },
          ],
        },
        {
          match: 'You are Toolbot',
          turns: [
            {
              tool_calls: [
                { name: 'read_channel_thread', arguments: {} },
                { name: 'set_channel_reaction', arguments: { emoji: '👀' } },
              ],
            },
            { text: 'NO_REPLY' },
          ],
        },
      ],
      default: { turns: [{ text: 'NO_REPLY' }] },
    },
  });
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
});

async function channel(id: string, policy: Record<string, number> = {}, members: unknown[] = []) {
  const res = await http(base(), 'POST', '/v1/channels', {
    channel_id: id,
    title: id,
    autonomy_policy: { ...policy },
    members: [{ member_id: 'alice', member_kind: 'human_actor', display_name: 'Alice' }, ...members],
  });
  assert.equal(res.status, 201, res.text);
}
const pause = async (id: string, paused: boolean) =>
  assert.equal((await http(base(), 'PUT', `/v1/channels/${id}`, { paused })).status, 200);
const stimulus = (id: string, body: Record<string, unknown>) =>
  http(base(), 'POST', `/v1/channels/${id}/stimuli`, body);
const list = async (id: string, q = '') =>
  (await http(base(), 'GET', `/v1/channels/${id}/stimuli${q}`)).body.stimuli;
async function until<T>(what: string, f: () => Promise<T | undefined | false>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('api-collab #12: stimulus scope, thread root, kind, visibility_hint and content are validated', async () => {
  await channel('s-valid');
  await pause('s-valid', true);
  const root = await http(base(), 'POST', '/v1/channels/s-valid/messages', {
    sender_actor_id: 'alice',
    content: 'root',
  });
  const rootId = root.body.message_id;
  const bad: Array<[string, Record<string, unknown>]> = [
    [
      'channel + root',
      { scope: 'channel', thread_root_message_id: rootId, kind: 'agent_idea', content: 'x' },
    ],
    ['thread without root', { scope: 'thread', kind: 'agent_idea', content: 'x' }],
    ['unknown kind', { scope: 'channel', kind: 'gossip', content: 'x' }],
    ['unknown visibility', { scope: 'channel', kind: 'agent_idea', content: 'x', visibility_hint: 'loud' }],
    ['no content', { scope: 'channel', kind: 'agent_idea' }],
  ];
  for (const [what, body] of bad) {
    const res = await stimulus('s-valid', body);
    assert.equal(res.status, 400, `${what}: ${res.text}`);
  }
  assertProblem(
    await stimulus('s-valid', {
      scope: 'thread',
      thread_root_message_id: 'msg-none',
      kind: 'agent_idea',
      content: 'x',
    }),
    400,
    'channels',
    'invalid_stimulus',
  );
  assertProblem(
    await stimulus('nope', { scope: 'channel', kind: 'agent_idea', content: 'x' }),
    404,
    'channels',
    'channel_not_found',
  );
  assertProblem(
    await stimulus('s-valid', {
      scope: 'channel',
      kind: 'agent_idea',
      content: 'x',
      sender_actor_id: 'mallory',
    }),
    403,
    'channels',
    'sender_not_member',
  );
  assert.deepEqual(await list('s-valid'), [], 'nothing was queued by refused bodies');
  const ok = await stimulus('s-valid', {
    scope: 'thread',
    thread_root_message_id: rootId,
    kind: 'thread_idle_followup',
    content: 'still there?',
  });
  assert.equal(ok.status, 201, ok.text);
  assert.equal(ok.body.state, 'pending');
  assert.equal(ok.body.visibility_hint, 'auto');
});

test('api-collab #13: ?state=pending returns only pending stimuli; every state is one of the six', async () => {
  await channel('s-states');
  await pause('s-states', true);
  await stimulus('s-states', { scope: 'channel', kind: 'agent_idea', content: 'one', dedupe_key: 'k' });
  await stimulus('s-states', { scope: 'channel', kind: 'agent_idea', content: 'one', dedupe_key: 'k' });
  await stimulus('s-states', { scope: 'channel', kind: 'agent_idea', content: 'two', dedupe_key: 'k' });
  const all = await list('s-states');
  assert.deepEqual(
    all.map((s: any) => s.state),
    ['superseded', 'coalesced', 'pending'],
  );
  assert.equal(all[1].related_stimulus_id, all[0].stimulus_id, 'the duplicate joined the first');
  assert.equal(all[0].related_stimulus_id, all[2].stimulus_id, 'the first was replaced by the newer content');
  const pending = await list('s-states', '?state=pending');
  assert.deepEqual(
    pending.map((s: any) => s.content),
    ['two'],
  );
  const six = ['pending', 'claimed', 'dispatched', 'coalesced', 'superseded', 'cancelled'];
  for (const s of all) assert.ok(six.includes(s.state), s.state);
  assert.equal((await http(base(), 'GET', '/v1/channels/s-states/stimuli?state=done')).status, 400);
  assert.equal((await list('s-states', '?limit=1')).length, 1);
});

test('api-collab §1.8 (decision 356): a full queue refuses the next stimulus and counts it as suppressed', async () => {
  await channel('s-bound', { max_pending_stimuli: 2 });
  await pause('s-bound', true);
  for (const c of ['a', 'b'])
    assert.equal(
      (await stimulus('s-bound', { scope: 'channel', kind: 'agent_idea', content: c })).status,
      201,
    );
  for (let i = 0; i < 3; i++)
    assertProblem(
      await stimulus('s-bound', { scope: 'channel', kind: 'schedule_fire', content: `c${i}` }),
      429,
      'channels',
      'stimulus_queue_full',
    );
  const view = (await http(base(), 'GET', '/v1/channels/s-bound')).body;
  assert.equal(view.moderation_metrics.suppressed_stimuli, 3);
  assert.equal(view.moderation_metrics.pending_stimuli, 2);
  assert.deepEqual(
    (await list('s-bound')).map((s: any) => s.content),
    ['a', 'b'],
    'the queued ones stay',
  );
});

test('api-collab §1.8 (decision 359): stimulus roots respect the quiet period and the hourly limit', async () => {
  await channel('s-quiet', {
    quiet_period_ms_after_root_post: 1500,
    max_autonomous_root_posts_per_hour: 2,
    max_active_autonomous_roots: 10,
  });
  await pause('s-quiet', true);
  for (const c of ['first', 'second', 'third'])
    await stimulus('s-quiet', { scope: 'channel', kind: 'agent_idea', content: c });
  await pause('s-quiet', false);
  const two = await until('two roots', async () => {
    const s = await list('s-quiet');
    return s.filter((x: any) => x.state === 'dispatched').length === 2 && s;
  });
  assert.ok(
    two[1].dispatched_at_ms - two[0].dispatched_at_ms >= 1500,
    'the second root waited the quiet period',
  );
  await new Promise((r) => setTimeout(r, 2000));
  const third = (await list('s-quiet'))[2];
  assert.equal(third.state, 'pending', 'the hourly limit holds the third');
  assert.ok(third.retry_at_ms >= two[0].dispatched_at_ms + 3_600_000 - 1000, `retry_at ${third.retry_at_ms}`);
  const msgs = (await http(base(), 'GET', '/v1/channels/s-quiet/messages')).body.messages;
  assert.deepEqual(
    msgs.map((m: any) => m.output.content),
    ['first', 'second'],
  );
  assert.equal(msgs[0].metadata.kheish_stimulus_id, two[0].stimulus_id);
  assert.equal(msgs[0].sender.member_id, 'kheish', 'a stimulus without sender is posted by the daemon actor');
  const work = (
    await http(base(), 'GET', `/v1/channels/s-quiet/thread-work?thread_root_message_id=${msgs[0].message_id}`)
  ).body.thread_work;
  assert.equal(work.length, 1);
  assert.equal(work[0].topic_kind, 'autonomous_root');
  assert.equal(work[0].last_stimulus_id, two[0].stimulus_id);
});

test('api-collab §1.9: a newer progress update supersedes the older snapshot (queued and posted)', async () => {
  await channel('s-progress', { max_pending_stimuli: 8 });
  const root = (
    await http(base(), 'POST', '/v1/channels/s-progress/messages', {
      sender_actor_id: 'alice',
      content: 'build the thing',
    })
  ).body.message_id;
  const progress = (content: string) =>
    stimulus('s-progress', {
      scope: 'thread',
      thread_root_message_id: root,
      kind: 'sidechain_milestone',
      content,
      progress_key: 'build',
      source_kind: 'task',
      source_ref: 'task-1',
    });
  await pause('s-progress', true);
  await progress('10%');
  await progress('20%');
  await pause('s-progress', false);
  await until('20% posted', async () => (await list('s-progress', '?state=dispatched')).length === 1);
  await progress('90%');
  await until('90% posted', async () => (await list('s-progress', '?state=dispatched')).length === 2);
  const states = (await list('s-progress', `?thread_root_message_id=${root}`)).map((s: any) => [
    s.content,
    s.state,
  ]);
  assert.deepEqual(states, [
    ['10%', 'superseded'],
    ['20%', 'dispatched'],
    ['90%', 'dispatched'],
  ]);
  const [work] = (
    await http(base(), 'GET', `/v1/channels/s-progress/thread-work?thread_root_message_id=${root}`)
  ).body.thread_work;
  assert.equal(work.progress_snapshots.build.content, '90%');
  assert.equal(work.progress_snapshots.build.superseded_count, 1);
  assert.deepEqual(
    work.bindings.map((b: any) => [b.kind, b.ref]),
    [['task', 'task-1']],
  );
  assert.equal(work.topic_kind, 'human');
  assert.equal(work.status, 'active');
});

test('api-core §10: a channel_delivery run reads its thread and reacts as its member', async () => {
  await createSession(base(), 'toolbot');
  await channel('s-tools', {}, [{ member_id: 'toolbot', member_kind: 'session', display_name: 'Toolbot' }]);
  const posted = await http(base(), 'POST', '/v1/channels/s-tools/messages', {
    sender_actor_id: 'alice',
    content: 'what do you see?',
  });
  assert.equal(posted.status, 201, posted.text);
  const msgId = posted.body.message_id;
  const run = await until('delivery run', async () => {
    const runs = (await http(base(), 'GET', '/v1/runs?session_id=toolbot')).body;
    return (Array.isArray(runs) ? runs : (runs.items ?? [])).find((r: any) => r.kind === 'channel_delivery');
  });
  const done = await waitForRun(base(), run.run_id);
  assert.equal(done.status, 'completed', JSON.stringify(done));
  const msg = (await http(base(), 'GET', `/v1/channels/s-tools/messages?thread_root_message_id=${msgId}`))
    .body.messages[0];
  const results = await journalPayloads(d, run.run_id, 'tool_result');
  assert.deepEqual(
    msg.reactions,
    [{ emoji: '👀', count: 1, actor_ids: ['toolbot'] }],
    JSON.stringify(results),
  );
  const thread = JSON.parse(results[0].content);
  assert.equal(thread.thread_root_message_id, msgId);
  assert.deepEqual(
    thread.messages.map((m: any) => [m.message_id, m.content]),
    [[msgId, 'what do you see?']],
  );
  const [work] = (
    await http(base(), 'GET', `/v1/channels/s-tools/thread-work?thread_root_message_id=${msgId}`)
  ).body.thread_work;
  assert.deepEqual(
    work.bindings.map((b: any) => [b.kind, b.ref, b.state]),
    [['run', run.run_id, 'completed']],
  );
});

test('api-collab §1.8 (decision 367): a run of a sidechain agent bound to a thread queues a sidechain_milestone there', async () => {
  await createSession(base(), 'lead');
  const spawn = await http(base(), 'POST', '/v1/sessions/lead/runs', { content: 'spawn a worker please' });
  assert.equal(spawn.status, 202, spawn.text);
  await waitForRun(base(), spawn.body.run_id);
  const agents = (await http(base(), 'GET', '/v1/agents')).body;
  const worker = (Array.isArray(agents) ? agents : (agents.agents ?? agents.items)).find(
    (a: any) => a.agent?.name === 'worker',
  );
  assert.ok(worker, JSON.stringify(agents));
  await channel('s-sidechain');
  const root = (
    await http(base(), 'POST', '/v1/channels/s-sidechain/messages', {
      sender_actor_id: 'alice',
      content: 'worker, report here',
    })
  ).body.message_id;
  const bind = await stimulus('s-sidechain', {
    scope: 'thread',
    thread_root_message_id: root,
    kind: 'agent_idea',
    content: 'watching the worker',
    source_kind: 'agent',
    source_ref: worker.agent_id,
  });
  assert.equal(bind.status, 201, bind.text);
  await until('binding', async () => (await list('s-sidechain', '?state=dispatched')).length === 1);
  const childRun = await http(base(), 'POST', `/v1/sessions/${worker.session_id}/runs`, {
    content: 'one more step',
  });
  assert.equal(childRun.status, 202, childRun.text);
  await waitForRun(base(), childRun.body.run_id);
  const milestone = await until('milestone posted', async () =>
    (await list('s-sidechain')).find(
      (s: any) => s.kind === 'sidechain_milestone' && s.state === 'dispatched',
    ),
  );
  assert.equal(milestone.thread_root_message_id, root);
  assert.match(milestone.content, new RegExp(worker.agent_id));
  const [work] = (
    await http(base(), 'GET', `/v1/channels/s-sidechain/thread-work?thread_root_message_id=${root}`)
  ).body.thread_work;
  assert.deepEqual(
    work.bindings.map((b: any) => [b.kind, b.ref]),
    [['sidechain_agent', worker.agent_id]],
  );
  assert.equal(
    work.progress_snapshots[`sidechain:${worker.agent_id}`].message_id,
    milestone.dispatched_message_id,
  );
});

test('api-core §10 (decision 365): a session that is no channel member sees no channel tool', async () => {
  await createSession(base(), 'outsider');
  const run = await http(base(), 'POST', '/v1/sessions/outsider/runs', {
    content: 'outsider reads the channel',
  });
  assert.equal(run.status, 202, run.text);
  await waitForRun(base(), run.body.run_id);
  const results = await journalPayloads(d, run.body.run_id, 'tool_result');
  assert.deepEqual(
    results.map((r: any) => [r.name, r.is_error, r.content]),
    [
      ['read_channel_thread', true, "tool `read_channel_thread` is not in this agent's tool surface"],
      ['create_channel_stimulus', true, "tool `create_channel_stimulus` is not in this agent's tool surface"],
    ],
  );
});
