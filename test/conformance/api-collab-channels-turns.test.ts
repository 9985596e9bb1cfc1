// Channels: public turns under the autonomy policy (api-collab §1.3, §1.7, §1.12; decisions
// 338-345), one human and three session members driven by scripted routes, short policy values.
// Run on SQLite and, with KHEISH_TEST_STORE=postgres, on PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { assertProblem, createSession, sleep } from './support.ts';

let d: TestDaemon;
const base = () => d.url;

before(async () => {
  d = await startDaemon({
    script: {
      rules: [
        { match: 'You are Slow', turns: [{ delay_ms: 20_000, text: 'too late' }] },
        { match: 'You are (\\w+)', turns: [{ text: 'a reply' }] },
      ],
      default: { turns: [{ text: 'NO_REPLY' }] },
    },
  });
  for (const s of ['ada', 'bob', 'cy', 'slow']) await createSession(base(), s);
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
});

const human = { member_id: 'hu', member_kind: 'human_actor', display_name: 'Hu' };
const agent = (id: string, name: string, mode?: string) => ({
  member_id: id,
  member_kind: 'session',
  display_name: name,
  ...(mode ? { participation_mode: mode } : {}),
});

async function channel(id: string, policy: Record<string, number>, members: unknown[]) {
  const res = await http(base(), 'POST', '/v1/channels', {
    channel_id: id,
    title: id,
    autonomy_policy: policy,
    members,
  });
  assert.equal(res.status, 201, res.text);
}

async function say(id: string, body: Record<string, unknown>) {
  const res = await http(base(), 'POST', `/v1/channels/${id}/messages`, { sender_actor_id: 'hu', ...body });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

/** Waits until no lease is active and the message count is stable, then returns the messages. */
async function settled(id: string): Promise<any[]> {
  let last = -1;
  for (let i = 0; i < 200; i++) {
    const leases = (await http(base(), 'GET', `/v1/channels/${id}/leases`)).body.leases;
    const messages = (await http(base(), 'GET', `/v1/channels/${id}/messages`)).body.messages;
    if (leases.length === 0 && messages.length === last) return messages;
    last = leases.length === 0 ? messages.length : -1;
    await sleep(50);
  }
  throw new Error(`channel ${id} did not settle`);
}

const agentsIn = (messages: any[]) =>
  messages.filter((m) => m.sender.member_kind === 'session').map((m) => m.sender.member_id);

test('two speakers at once: prefer_selected and selected_only members answer, manual_only stays silent unless addressed', async () => {
  await channel(
    'p-select',
    { max_parallel_public_speakers: 2, max_agent_replies_per_human_message: 3, member_cooldown_ms: 0 },
    [
      human,
      agent('cy', 'Cy', 'manual_only'),
      agent('bob', 'Bob', 'selected_only'),
      agent('ada', 'Ada', 'prefer_selected'),
    ],
  );
  const q = await say('p-select', { content: 'what do you think?' });
  const leases = (await http(base(), 'GET', '/v1/channels/p-select/leases')).body.leases;
  assert.ok(leases.length <= 2, 'at most max_parallel_public_speakers leases');
  for (const l of leases) {
    assert.equal(l.thread_root_message_id, q.message_id);
    assert.equal(l.last_human_message_id, q.message_id);
    assert.ok(l.remaining_reply_budget >= 1);
  }
  const after1 = await settled('p-select');
  assert.deepEqual(agentsIn(after1).sort(), ['ada', 'bob']);
  for (const m of after1.slice(1)) assert.equal(m.thread_root_message_id, q.message_id);

  await say('p-select', {
    content: 'and you, Cy?',
    thread_root_message_id: q.message_id,
    addressed_member_ids: ['cy'],
  });
  const after2 = await settled('p-select');
  assert.deepEqual(agentsIn(after2).sort(), ['ada', 'bob', 'cy']);
  const runs = (await http(base(), 'GET', '/v1/runs?session_id=cy')).body;
  const list = Array.isArray(runs) ? runs : (runs.runs ?? runs.items);
  assert.ok(list.every((r: any) => r.kind === 'channel_delivery'));
});

test('no reply storm: members that always answer each other stop at max_agent_replies_per_human_message', async () => {
  await channel(
    'p-storm',
    { max_parallel_public_speakers: 1, max_agent_replies_per_human_message: 4, member_cooldown_ms: 0 },
    [
      human,
      agent('ada', 'Ada', 'always_listen'),
      agent('bob', 'Bob', 'always_listen'),
      agent('cy', 'Cy', 'always_listen'),
    ],
  );
  await say('p-storm', { content: 'go' });
  const messages = await settled('p-storm');
  await sleep(300);
  const again = (await http(base(), 'GET', '/v1/channels/p-storm/messages')).body.messages;
  assert.equal(again.length, messages.length, 'quiet after the budget');
  assert.equal(agentsIn(messages).length, 4);
  // Never the same member twice in a row: a speaker does not answer itself.
  const a = agentsIn(messages);
  for (let i = 1; i < a.length; i++) assert.notEqual(a[i], a[i - 1]);
  const m = (await http(base(), 'GET', '/v1/channels/p-storm')).body.moderation_metrics;
  assert.equal(m.turns_granted, 4);
  assert.equal(m.agent_replies_posted, 4);
  assert.ok(m.turns_skipped_budget >= 1);
  assert.equal(m.active_leases, 0);
  // A new human message opens a new budget.
  await say('p-storm', { content: 'once more' });
  assert.equal(agentsIn(await settled('p-storm')).length, 8);
});

test('cooldowns: a member that just spoke is passed over until member_cooldown_ms ends (addressed members are not)', async () => {
  await channel('p-cool', { max_parallel_public_speakers: 1, member_cooldown_ms: 60_000 }, [
    human,
    agent('ada', 'Ada'),
    agent('bob', 'Bob'),
  ]);
  await say('p-cool', { content: 'first' });
  assert.deepEqual(agentsIn(await settled('p-cool')), ['ada']);
  await say('p-cool', { content: 'second' });
  assert.deepEqual(agentsIn(await settled('p-cool')), ['ada', 'bob']);
  await say('p-cool', { content: 'third' });
  assert.deepEqual(agentsIn(await settled('p-cool')), ['ada', 'bob'], 'both cooling down');
  await say('p-cool', { content: 'Ada, please', addressed_member_ids: ['ada'] });
  assert.deepEqual(agentsIn(await settled('p-cool')), ['ada', 'bob', 'ada']);
  const m = (await http(base(), 'GET', '/v1/channels/p-cool')).body.moderation_metrics;
  assert.ok(m.turns_skipped_cooldown >= 2);
});

test('paused channels run no turns; muted members never speak', async () => {
  await channel('p-pause', { member_cooldown_ms: 0 }, [
    human,
    agent('ada', 'Ada'),
    { ...agent('bob', 'Bob'), muted: true },
  ]);
  await http(base(), 'PUT', '/v1/channels/p-pause', { paused: true });
  await say('p-pause', { content: 'anyone?', addressed_member_ids: ['ada', 'bob'] });
  await sleep(300);
  assert.equal((await settled('p-pause')).length, 1);
  await http(base(), 'PUT', '/v1/channels/p-pause', { paused: false });
  await say('p-pause', { content: 'now?', addressed_member_ids: ['bob', 'ada'] });
  assert.deepEqual(agentsIn(await settled('p-pause')), ['ada']);
});

test('lease timeout: the turn expires, its run is cancelled and its late answer is never posted', async () => {
  await channel('p-timeout', { lease_timeout_ms: 300, member_cooldown_ms: 0 }, [
    human,
    agent('slow', 'Slow'),
  ]);
  await say('p-timeout', { content: 'take your time' });
  const [lease] = (await http(base(), 'GET', '/v1/channels/p-timeout/leases')).body.leases;
  assert.ok(lease?.active_run_id);
  const messages = await settled('p-timeout');
  assert.equal(messages.length, 1);
  let run: any;
  for (let i = 0; i < 100; i++) {
    run = (await http(base(), 'GET', `/v1/runs/${lease.active_run_id}`)).body;
    if (run.status === 'cancelled') break;
    await sleep(50);
  }
  assert.equal(run.status, 'cancelled');
  const m = (await http(base(), 'GET', '/v1/channels/p-timeout')).body.moderation_metrics;
  assert.equal(m.leases_expired, 1);
  assert.equal(m.agent_replies_posted, 0);
});

test('autonomous roots: a session member may open one subject, then the quiet period refuses another (429)', async () => {
  await channel('p-roots', { quiet_period_ms_after_root_post: 60_000, member_cooldown_ms: 0 }, [
    human,
    agent('ada', 'Ada'),
    agent('bob', 'Bob'),
  ]);
  const first = await http(base(), 'POST', '/v1/channels/p-roots/messages', {
    sender_actor_id: 'ada',
    sender_session_id: 'ada',
    content: 'an idea',
  });
  assert.equal(first.status, 201, first.text);
  const second = await http(base(), 'POST', '/v1/channels/p-roots/messages', {
    sender_actor_id: 'bob',
    sender_session_id: 'bob',
    content: 'another idea',
  });
  assertProblem(second, 429, 'channels', 'autonomous_root_limited');
  assert.ok(second.body.retry_after_ms > 0);
  // A reply in the existing thread is not a new subject.
  const reply = await http(base(), 'POST', '/v1/channels/p-roots/messages', {
    sender_actor_id: 'bob',
    sender_session_id: 'bob',
    reply_to_message_id: first.body.message_id,
    content: 'agreed',
  });
  assert.equal(reply.status, 201, reply.text);
  await settled('p-roots');
  const v = (await http(base(), 'GET', '/v1/channels/p-roots')).body;
  assert.equal(v.moderation_metrics.recent_autonomous_roots, 1);
  const noSession = await http(base(), 'POST', '/v1/channels/p-roots/messages', {
    sender_actor_id: 'ada',
    content: 'x',
  });
  assertProblem(noSession, 400, 'channels', 'sender_session_required');
});

async function cancelled(runId: string) {
  for (let i = 0; i < 100; i++) {
    const run = (await http(base(), 'GET', `/v1/runs/${runId}`)).body;
    if (run.status === 'cancelled') return run;
    await sleep(50);
  }
  throw new Error(`run ${runId} was not cancelled`);
}

test('a member removed while it holds a turn loses it: lease ended, run cancelled, nothing posted', async () => {
  await channel('p-remove', { member_cooldown_ms: 0 }, [human, agent('slow', 'Slow')]);
  await say('p-remove', { content: 'slowly' });
  const [lease] = (await http(base(), 'GET', '/v1/channels/p-remove/leases')).body.leases;
  assert.ok(lease?.active_run_id);
  assert.equal((await http(base(), 'DELETE', '/v1/channels/p-remove/members/slow')).status, 200);
  assert.deepEqual((await http(base(), 'GET', '/v1/channels/p-remove/leases')).body.leases, []);
  await cancelled(lease.active_run_id);
  assert.equal((await settled('p-remove')).length, 1);
});

test('deleting a channel while a turn runs cancels the run and leaves nothing behind', async () => {
  await channel('p-delete', { member_cooldown_ms: 0 }, [human, agent('slow', 'Slow')]);
  await say('p-delete', { content: 'slowly' });
  const [lease] = (await http(base(), 'GET', '/v1/channels/p-delete/leases')).body.leases;
  assert.deepEqual((await http(base(), 'DELETE', '/v1/channels/p-delete')).body, { accepted: true });
  await cancelled(lease.active_run_id);
  assertProblem(
    await http(base(), 'GET', '/v1/channels/p-delete/leases'),
    404,
    'channels',
    'channel_not_found',
  );
  await channel('p-delete', {}, [human]);
  const fresh = (await http(base(), 'GET', '/v1/channels/p-delete')).body;
  assert.equal(fresh.message_count, 0);
  assert.equal(fresh.moderation_metrics.turns_granted, 0, 'no state of the old channel survives');
});

test('a direct reply to an agent keeps the conversation with it (sticky)', async () => {
  await channel('p-sticky', { member_cooldown_ms: 0 }, [human, agent('ada', 'Ada'), agent('bob', 'Bob')]);
  const q = await say('p-sticky', { content: 'first question' });
  const first = await settled('p-sticky');
  assert.deepEqual(agentsIn(first), ['ada']);
  await say('p-sticky', { content: 'second question' });
  const second = await settled('p-sticky');
  assert.deepEqual(agentsIn(second), ['ada', 'bob'], 'least recently heard first');
  const adaReply = first.find(
    (m) => m.sender.member_id === 'ada' && m.thread_root_message_id === q.message_id,
  );
  await say('p-sticky', { content: 'Ada, why?', reply_to_message_id: adaReply.message_id });
  const third = await settled('p-sticky');
  assert.deepEqual(
    agentsIn(third),
    ['ada', 'bob', 'ada'],
    'the member replied to answers, not the next in rotation',
  );
});
