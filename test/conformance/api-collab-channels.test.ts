// Channels conformance (api-collab §1; checklist #1-11, #14): CRUD, roster, public log, reactions,
// read-only leases, deletion. Run on SQLite and, with KHEISH_TEST_STORE=postgres, on PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon, waitForRun } from '../helpers/daemon.ts';
import { assertProblem, createSession } from './support.ts';

let d: TestDaemon;
const base = () => d.url;

before(async () => {
  d = await startDaemon({
    script: {
      rules: [{ match: 'You are Turner', turns: [{ text: 'answer from Turner' }] }],
      default: { turns: [{ text: 'NO_REPLY' }] },
    },
  });
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
});

async function channel(body: Record<string, unknown>) {
  const res = await http(base(), 'POST', '/v1/channels', body);
  assert.equal(res.status, 201, res.text);
  return res.body;
}

test('api-collab #1: POST /v1/channels without title is 400 and creates nothing', async () => {
  const res = await http(base(), 'POST', '/v1/channels', { channel_id: 'no-title' });
  assert.equal(res.status, 400, res.text);
  assert.equal((await http(base(), 'GET', '/v1/channels/no-title')).status, 404);
});

test('api-collab #2: a channel without autonomy_policy has the documented defaults and selected_only', async () => {
  const c = await channel({ channel_id: 'defaults', title: 'Defaults' });
  assert.deepEqual(c.autonomy_policy, {
    max_parallel_public_speakers: 1,
    max_agent_replies_per_human_message: 3,
    member_cooldown_ms: 15000,
    lease_timeout_ms: 60000,
    max_pending_stimuli: 32,
    max_autonomous_root_posts_per_hour: 4,
    max_active_autonomous_roots: 1,
    quiet_period_ms_after_root_post: 300000,
  });
  assert.equal(c.default_participation_mode, 'selected_only');
  assert.equal(c.summary.channel_id, 'defaults');
  assert.equal(typeof c.moderation_metrics.active_leases, 'number');
  const again = await http(base(), 'GET', '/v1/channels/defaults');
  assert.deepEqual(again.body.autonomy_policy, c.autonomy_policy);
});

test('api-collab #3: ?query= matches id, title, description or purpose and nothing else', async () => {
  await channel({ channel_id: 'q-id-zebra', title: 'one' });
  await channel({ channel_id: 'q-2', title: 'Zebra crossing' });
  await channel({ channel_id: 'q-3', title: 'three', description: 'about zebras' });
  await channel({ channel_id: 'q-4', title: 'four', purpose: 'ZEBRA purpose' });
  await channel({ channel_id: 'q-5', title: 'five', metadata: { zebra: true } });
  const res = await http(base(), 'GET', '/v1/channels?query=zebra');
  assert.equal(res.status, 200);
  assert.deepEqual(res.body.channels.map((c: any) => c.channel_id).sort(), [
    'q-2',
    'q-3',
    'q-4',
    'q-id-zebra',
  ]);
});

test('api-collab #4: session_id and actor_id default to member_id', async () => {
  await createSession(base(), 'bot-a');
  await channel({ channel_id: 'roster', title: 'Roster' });
  const s = await http(base(), 'POST', '/v1/channels/roster/members', {
    member_id: 'bot-a',
    member_kind: 'session',
    display_name: 'Bot A',
  });
  assert.equal(s.status, 200, s.text);
  assert.equal(s.body.session_id, 'bot-a');
  const h = await http(base(), 'POST', '/v1/channels/roster/members', {
    member_id: 'alice',
    member_kind: 'human_actor',
    display_name: 'Alice',
  });
  assert.equal(h.body.actor_id, 'alice');
});

test('api-collab #5: a second upsert with the same member_id updates it', async () => {
  await http(base(), 'POST', '/v1/channels/roster/members', {
    member_id: 'alice',
    member_kind: 'human_actor',
    display_name: 'Alice Liddell',
    role: 'lead',
  });
  const list = await http(base(), 'GET', '/v1/channels/roster/members');
  const alices = list.body.members.filter((m: any) => m.member_id === 'alice');
  assert.equal(alices.length, 1);
  assert.equal(alices[0].display_name, 'Alice Liddell');
  assert.equal(alices[0].role, 'lead');
});

test('api-collab #6: unknown member_kind or participation_mode is 400; duplicate ids in a create body too', async () => {
  const a = await http(base(), 'POST', '/v1/channels/roster/members', {
    member_id: 'x',
    member_kind: 'robot',
    display_name: 'X',
  });
  assert.equal(a.status, 400);
  const b = await http(base(), 'POST', '/v1/channels/roster/members', {
    member_id: 'x',
    member_kind: 'human_actor',
    display_name: 'X',
    participation_mode: 'sometimes',
  });
  assert.equal(b.status, 400);
  const dup = await http(base(), 'POST', '/v1/channels', {
    channel_id: 'dup',
    title: 'Dup',
    members: [
      { member_id: 'h', member_kind: 'human_actor', display_name: 'H' },
      { member_id: 'h', member_kind: 'human_actor', display_name: 'H2' },
    ],
  });
  assertProblem(dup, 400, 'channels', 'invalid_channel');
  assert.equal((await http(base(), 'GET', '/v1/channels/dup')).status, 404, 'nothing half-written');
  const noSession = await http(base(), 'POST', '/v1/channels', {
    channel_id: 'nos',
    title: 'Nos',
    members: [{ member_id: 'ghost', member_kind: 'session', display_name: 'G' }],
  });
  assertProblem(noSession, 400, 'channels', 'member_session_not_found');
  assert.equal((await http(base(), 'GET', '/v1/channels/nos')).status, 404);
  const list = await http(base(), 'GET', '/v1/channels/roster/members');
  assert.ok(!list.body.members.some((m: any) => m.member_id === 'x'));
});

test('api-collab #7: a message from a non-member is rejected', async () => {
  const res = await http(base(), 'POST', '/v1/channels/roster/messages', {
    sender_actor_id: 'mallory',
    content: 'hi',
  });
  assertProblem(res, 403, 'channels', 'sender_not_member');
  assert.equal((await http(base(), 'GET', '/v1/channels/roster/messages')).body.messages.length, 0);
});

test('api-collab #8: a board_reference from a non-session sender is 400', async () => {
  const res = await http(base(), 'POST', '/v1/channels/roster/messages', {
    sender_actor_id: 'alice',
    input_items: [{ type: 'board_reference', board_id: 'b1' }],
  });
  assertProblem(res, 400, 'channels', 'board_reference_requires_session');
});

test('api-collab #9: thread filter and limit keep the latest matches, chronological', async () => {
  await channel({
    channel_id: 'threads',
    title: 'Threads',
    members: [{ member_id: 'h', member_kind: 'human_actor', display_name: 'H' }],
  });
  const post = async (body: Record<string, unknown>) => {
    const r = await http(base(), 'POST', '/v1/channels/threads/messages', { sender_actor_id: 'h', ...body });
    assert.equal(r.status, 201, r.text);
    return r.body;
  };
  const r1 = await post({ content: 'root one' });
  const r2 = await post({ content: 'root two' });
  const a = await post({ content: 'a', thread_root_message_id: r1.message_id });
  const b = await post({ content: 'b', reply_to_message_id: a.message_id });
  assert.equal(b.thread_root_message_id, r1.message_id, 'derived from reply_to_message_id');
  assert.equal(b.reply_to_message_id, a.message_id);
  await post({ content: 'c', thread_root_message_id: r2.message_id });
  const t1 = await http(
    base(),
    'GET',
    `/v1/channels/threads/messages?thread_root_message_id=${r1.message_id}`,
  );
  assert.deepEqual(
    t1.body.messages.map((m: any) => m.output.content),
    ['root one', 'a', 'b'],
  );
  const latest = await http(base(), 'GET', '/v1/channels/threads/messages?limit=2');
  assert.deepEqual(
    latest.body.messages.map((m: any) => m.output.content),
    ['b', 'c'],
  );
  const q = await http(base(), 'GET', '/v1/channels/threads/messages?query=ROOT&limit=1');
  assert.deepEqual(
    q.body.messages.map((m: any) => m.output.content),
    ['root two'],
  );
  const notRoot = await http(base(), 'POST', '/v1/channels/threads/messages', {
    sender_actor_id: 'h',
    content: 'x',
    thread_root_message_id: a.message_id,
  });
  assertProblem(notRoot, 400, 'channels', 'not_a_thread_root');
});

test('api-collab #10: reactions by non-members are rejected; add then remove restores the aggregate', async () => {
  const list = await http(base(), 'GET', '/v1/channels/threads/messages?limit=1');
  const m = list.body.messages[0];
  const url = `/v1/channels/threads/messages/${m.message_id}/reactions`;
  assertProblem(
    await http(base(), 'POST', url, { actor_id: 'mallory', emoji: '👍' }),
    403,
    'channels',
    'actor_not_member',
  );
  const before = (await http(base(), 'GET', `/v1/channels/threads/messages/${m.message_id}`)).body.reactions;
  const added = await http(base(), 'POST', url, { actor_id: 'h', emoji: '👍' });
  assert.equal(added.status, 200, added.text);
  assert.deepEqual(added.body.reactions, [{ emoji: '👍', count: 1, actor_ids: ['h'] }]);
  const twice = await http(base(), 'POST', url, { actor_id: 'h', emoji: '👍' });
  assert.deepEqual(twice.body.reactions, added.body.reactions, 'idempotent');
  const removed = await http(base(), 'DELETE', url, { actor_id: 'h', emoji: '👍' });
  assert.equal(removed.status, 200);
  assert.deepEqual(removed.body.reactions, before);
});

test('api-collab #11: /leases has no mutating method', async () => {
  assert.equal((await http(base(), 'GET', '/v1/channels/threads/leases')).status, 200);
  for (const method of ['POST', 'PUT', 'DELETE'])
    assert.ok([404, 405].includes((await http(base(), method, '/v1/channels/threads/leases', {})).status));
});

test('api-collab #14: DELETE answers {accepted:true}; the channel and its log are gone', async () => {
  const del = await http(base(), 'DELETE', '/v1/channels/threads');
  assert.equal(del.status, 200);
  assert.deepEqual(del.body, { accepted: true });
  assertProblem(await http(base(), 'GET', '/v1/channels/threads'), 404, 'channels', 'channel_not_found');
  assertProblem(
    await http(base(), 'GET', '/v1/channels/threads/messages'),
    404,
    'channels',
    'channel_not_found',
  );
  // Recreated under the same id it starts empty.
  await channel({ channel_id: 'threads', title: 'Again' });
  assert.equal((await http(base(), 'GET', '/v1/channels/threads/messages')).body.messages.length, 0);
});

test('PUT merges autonomy_policy field by field (decision 336) and validates ranges', async () => {
  await channel({ channel_id: 'put', title: 'Put', autonomy_policy: { member_cooldown_ms: 10 } });
  const res = await http(base(), 'PUT', '/v1/channels/put', {
    autonomy_policy: { max_parallel_public_speakers: 2 },
    paused: true,
  });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.autonomy_policy.max_parallel_public_speakers, 2);
  assert.equal(res.body.autonomy_policy.member_cooldown_ms, 10);
  assert.equal(res.body.paused, true);
  const bad = await http(base(), 'PUT', '/v1/channels/put', {
    autonomy_policy: { max_parallel_public_speakers: 0 },
  });
  assert.equal(bad.status, 400);
  assert.equal(
    (await http(base(), 'GET', '/v1/channels/put')).body.autonomy_policy.max_parallel_public_speakers,
    2,
  );
  const pin = await http(base(), 'PUT', '/v1/channels/put', { pinned_asset_ids: ['asset-nope'] });
  assertProblem(pin, 400, 'channels', 'pinned_asset_not_found');
});

test('a human message gives a session member a turn: a channel_delivery run in its session, its answer posted once', async () => {
  await createSession(base(), 'bot-turn');
  // The session's own reply targets are not where a channel answer goes (decision 340).
  const targets = await http(base(), 'PUT', '/v1/sessions/bot-turn/reply-targets', {
    reply_targets: [
      {
        plugin: 'http',
        address: JSON.stringify({ url: 'http://127.0.0.1:9/never', allow_private_network: true }),
      },
    ],
  });
  assert.equal(targets.status, 200, targets.text);
  await channel({
    channel_id: 'turns',
    title: 'Turns',
    members: [
      { member_id: 'hum', member_kind: 'human_actor', display_name: 'Hum' },
      { member_id: 'bot-turn', member_kind: 'session', display_name: 'Turner' },
    ],
  });
  const posted = await http(base(), 'POST', '/v1/channels/turns/messages', {
    sender_actor_id: 'hum',
    content: 'please answer',
  });
  assert.equal(posted.status, 201, posted.text);
  let messages: any[] = [];
  for (let i = 0; i < 100; i++) {
    messages = (await http(base(), 'GET', '/v1/channels/turns/messages')).body.messages;
    if (messages.length >= 2) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(messages.length, 2, JSON.stringify(messages));
  const reply = messages[1];
  assert.equal(reply.sender.member_id, 'bot-turn');
  assert.equal(reply.thread_root_message_id, posted.body.message_id);
  assert.equal(reply.reply_to_message_id, posted.body.message_id);
  assert.equal(reply.output.content, 'answer from Turner');
  const run = await http(base(), 'GET', `/v1/runs/${reply.origin_run_id}`);
  assert.equal(run.body.kind, 'channel_delivery');
  assert.equal(run.body.session_id, 'bot-turn');
  assert.deepEqual(run.body.deliveries ?? [], [], 'no delivery to the session reply targets');
  const plain = await http(base(), 'POST', '/v1/sessions/bot-turn/runs', { content: 'plain' });
  assert.equal(plain.status, 202, plain.text);
  const plainRun = await waitForRun(base(), plain.body.run_id);
  assert.equal((plainRun.deliveries ?? []).length, 1, 'an ordinary run of the session does use them');
  assert.deepEqual((await http(base(), 'GET', '/v1/channels/turns/leases')).body.leases, []);
  const view = (await http(base(), 'GET', '/v1/channels/turns')).body;
  assert.equal(view.moderation_metrics.turns_granted, 1);
  assert.equal(view.moderation_metrics.agent_replies_posted, 1);
});
