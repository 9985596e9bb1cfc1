// Channels (api-collab §1.4-§1.6, §1.10, §1.11; decisions 341, 343, 347, 350): the channel event
// stream with Last-Event-ID replay, follow_agent labels, pinned and attached assets, and bad input
// for every body (typed problems, nothing half-written). Both stores.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { BIN, http, startDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { assertProblem, createSession, openSse } from './support.ts';

let d: TestDaemon;
const base = () => d.url;
const b64 = (s: string) => Buffer.from(s).toString('base64');

before(async () => {
  d = await startDaemon({ script: { default: { turns: [{ text: 'NO_REPLY' }] } } });
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
});

const human = { member_id: 'hu', member_kind: 'human_actor', display_name: 'Hu' };

test('the channel stream replays channel_event frames after Last-Event-ID, and only this channel’s', async () => {
  await http(base(), 'POST', '/v1/channels', { channel_id: 'sse', title: 'SSE', members: [human] });
  await http(base(), 'POST', '/v1/channels', { channel_id: 'sse-other', title: 'Other', members: [human] });
  const first = await http(base(), 'POST', '/v1/channels/sse/messages', {
    sender_actor_id: 'hu',
    content: 'one',
  });
  const live = await openSse(`${base()}/v1/channels/sse/stream`, { 'last-event-id': '0' });
  await live.waitFor((f) => f.some((x) => x.data?.kind === 'message_posted'), 'the first message');
  const seen = live.frames.filter((f) => f.event === 'channel_event');
  assert.ok(seen.every((f) => f.data.channel_id === 'sse'));
  const cut = seen.find((f) => f.data.kind === 'message_posted')!;
  assert.equal(cut.data.payload.message_id, first.body.message_id);
  live.close();
  await http(base(), 'POST', '/v1/channels/sse-other/messages', {
    sender_actor_id: 'hu',
    content: 'elsewhere',
  });
  await http(base(), 'POST', '/v1/channels/sse/messages', { sender_actor_id: 'hu', content: 'two' });
  await http(base(), 'POST', `/v1/channels/sse/messages/${first.body.message_id}/reactions`, {
    actor_id: 'hu',
    emoji: '👀',
  });
  const again = await openSse(`${base()}/v1/channels/sse/stream`, { 'last-event-id': cut.id! });
  await again.waitFor((f) => f.some((x) => x.data?.kind === 'reaction_added'), 'the reaction');
  const kinds = again.frames.filter((f) => f.event === 'channel_event').map((f) => f.data.kind);
  assert.deepEqual(kinds, ['message_posted', 'reaction_added'], 'only what came after the cursor, in order');
  const two = again.frames.find((f) => f.data?.kind === 'message_posted')!;
  assert.equal(two.data.payload.output.content, 'two');
  assert.ok(BigInt(two.id!) > BigInt(cut.id!));
  again.close();
  assertProblem(await http(base(), 'GET', '/v1/channels/nope/stream'), 404, 'channels', 'channel_not_found');
});

test('follow_agent labels follow the session’s persona name; manual labels stay; history keeps its label', async () => {
  const p = await http(base(), 'POST', '/v1/personas', {
    persona_id: 'p-ada',
    display_name: 'Ada Lovelace',
    soul: 's',
  });
  assert.equal(p.status, 201, p.text);
  await createSession(base(), 'fa');
  await http(base(), 'POST', '/v1/sessions/fa/persona', { persona_id: 'p-ada' });
  await http(base(), 'POST', '/v1/channels', {
    channel_id: 'labels',
    title: 'Labels',
    members: [
      human,
      { member_id: 'fa', member_kind: 'session', display_name: 'stored', display_name_mode: 'follow_agent' },
    ],
  });
  const m = (await http(base(), 'GET', '/v1/channels/labels/members')).body.members.find(
    (x: any) => x.member_id === 'fa',
  );
  assert.equal(m.display_name, 'Ada Lovelace');
  assert.equal(m.display_name_mode, 'follow_agent');
  const posted = await http(base(), 'POST', '/v1/channels/labels/messages', {
    sender_actor_id: 'fa',
    sender_session_id: 'fa',
    content: 'hello',
  });
  assert.equal(posted.body.sender.display_name, 'Ada Lovelace');
  await http(base(), 'POST', '/v1/personas', { persona_id: 'p-bob', display_name: 'Bob', soul: 's' });
  await http(base(), 'POST', '/v1/sessions/fa/persona', { persona_id: 'p-bob' });
  const now = (await http(base(), 'GET', '/v1/channels/labels')).body.members.find(
    (x: any) => x.member_id === 'fa',
  );
  assert.equal(now.display_name, 'Bob');
  const old = await http(base(), 'GET', `/v1/channels/labels/messages/${posted.body.message_id}`);
  assert.equal(old.body.sender.display_name, 'Ada Lovelace', 'history is not rewritten');
  const bad = await http(base(), 'POST', '/v1/channels/labels/members', {
    member_id: 'h2',
    member_kind: 'human_actor',
    display_name: 'H2',
    display_name_mode: 'follow_agent',
  });
  assertProblem(bad, 400, 'channels', 'invalid_member');
});

test('pinned assets and message attachments are hard references of the channel, released by its deletion', async () => {
  const up = await http(base(), 'POST', '/v1/assets', {
    file_name: 'spec.txt',
    content_base64: b64('the spec'),
  });
  assert.equal(up.status, 201, up.text);
  const assetId = up.body.asset_id;
  const c = await http(base(), 'POST', '/v1/channels', {
    channel_id: 'pins',
    title: 'Pins',
    members: [human],
    pinned_asset_ids: [assetId],
  });
  assert.equal(c.status, 201, c.text);
  assert.deepEqual(c.body.pinned_asset_ids, [assetId]);
  const msg = await http(base(), 'POST', '/v1/channels/pins/messages', {
    sender_actor_id: 'hu',
    input_items: [
      { type: 'text', text: 'see the notes' },
      {
        type: 'inline_asset',
        file_name: 'notes.txt',
        media_type: 'text/plain',
        content_base64: b64('notes'),
      },
    ],
  });
  assert.equal(msg.status, 201, msg.text);
  const part = msg.body.output.parts.find((p: any) => p.type === 'asset');
  assert.equal(part.file_name, 'notes.txt');
  assert.equal(msg.body.output.content, 'see the notes');
  const found = await http(base(), 'GET', '/v1/channels/pins/messages?query=NOTES.TXT');
  assert.equal(found.body.messages.length, 1, 'query matches attachment names');
  for (const id of [assetId, part.asset_id]) {
    const refs = (await http(base(), 'GET', `/v1/assets/${id}/references`)).body;
    const list = Array.isArray(refs) ? refs : refs.references;
    assert.ok(
      list.some((r: any) => r.domain === 'channels' && r.owner_id === 'pins' && r.hard),
      JSON.stringify(refs),
    );
    assertProblem(await http(base(), 'DELETE', `/v1/assets/${id}`), 409, 'assets', 'asset_delete_blocked');
  }
  await http(base(), 'DELETE', '/v1/channels/pins');
  const refs = (await http(base(), 'GET', `/v1/assets/${assetId}/references`)).body;
  const list = Array.isArray(refs) ? refs : refs.references;
  assert.ok(!list.some((r: any) => r.domain === 'channels'));
  const unknown = await http(base(), 'POST', '/v1/channels', {
    channel_id: 'pins2',
    title: 'P',
    pinned_asset_ids: ['asset-none'],
  });
  assertProblem(unknown, 400, 'channels', 'pinned_asset_not_found');
  assert.equal((await http(base(), 'GET', '/v1/channels/pins2')).status, 404);
});

test('bad input for every body is a typed 4xx problem and writes nothing', async () => {
  await createSession(base(), 'bad-s');
  await http(base(), 'POST', '/v1/channels', {
    channel_id: 'bad',
    title: 'Bad',
    members: [
      human,
      { member_id: 'bad-s', member_kind: 'session', display_name: 'S', participation_mode: 'manual_only' },
    ],
  });
  const snapshot = async () =>
    JSON.stringify([
      (await http(base(), 'GET', '/v1/channels/bad')).body,
      (await http(base(), 'GET', '/v1/channels/bad/messages')).body,
    ]);
  const root = (
    await http(base(), 'POST', '/v1/channels/bad/messages', { sender_actor_id: 'hu', content: 'root' })
  ).body;
  const base0 = await snapshot();
  const cases: Array<[string, string, unknown, number, string?]> = [
    ['POST', '/v1/channels', {}, 400],
    ['POST', '/v1/channels', { title: '' }, 400],
    ['POST', '/v1/channels', { title: 't', autonomy_policy: { lease_timeout_ms: 5 } }, 400],
    ['POST', '/v1/channels', { title: 't', autonomy_policy: { bogus: 1 } }, 400],
    ['POST', '/v1/channels', { title: 't', default_participation_mode: 'loud' }, 400],
    ['POST', '/v1/channels', { title: 't', channel_id: 'a/b' }, 400, 'invalid_channel'],
    ['POST', '/v1/channels', { title: 't', extra: true }, 400],
    ['POST', '/v1/channels', { channel_id: 'bad', title: 'again' }, 409, 'channel_already_exists'],
    ['PUT', '/v1/channels/bad', { title: '' }, 400],
    ['PUT', '/v1/channels/bad', { paused: 'yes' }, 400],
    ['PUT', '/v1/channels/bad', { autonomy_policy: { max_parallel_public_speakers: 100 } }, 400],
    ['PUT', '/v1/channels/missing', { title: 'x' }, 404, 'channel_not_found'],
    ['POST', '/v1/channels/bad/members', { member_id: 'x', member_kind: 'robot', display_name: 'X' }, 400],
    ['POST', '/v1/channels/bad/members', { member_id: 'x', member_kind: 'human_actor' }, 400],
    [
      'POST',
      '/v1/channels/bad/members',
      { member_id: 'x', member_kind: 'session', display_name: 'X' },
      400,
      'member_session_not_found',
    ],
    [
      'POST',
      '/v1/channels/bad/members',
      { member_id: 'x', member_kind: 'session', display_name: 'X', session_id: 'bad-s', actor_id: 'a' },
      400,
      'invalid_member',
    ],
    [
      'POST',
      '/v1/channels/missing/members',
      { member_id: 'x', member_kind: 'human_actor', display_name: 'X' },
      404,
      'channel_not_found',
    ],
    ['DELETE', '/v1/channels/bad/members/nobody', undefined, 404, 'member_not_found'],
    ['POST', '/v1/channels/bad/messages', { content: 'no sender' }, 400],
    ['POST', '/v1/channels/bad/messages', { sender_actor_id: 'hu' }, 400, 'invalid_message'],
    ['POST', '/v1/channels/bad/messages', { sender_actor_id: 'hu', content: '  ' }, 400, 'invalid_message'],
    [
      'POST',
      '/v1/channels/bad/messages',
      { sender_actor_id: 'hu', content: 'x', input_items: [{ type: 'text', text: 'y' }] },
      400,
      'invalid_message',
    ],
    [
      'POST',
      '/v1/channels/bad/messages',
      { sender_actor_id: 'hu', input_items: [{ type: 'video', url: 'x' }] },
      400,
    ],
    [
      'POST',
      '/v1/channels/bad/messages',
      {
        sender_actor_id: 'hu',
        input_items: [{ type: 'inline_asset', file_name: '', content_base64: 'eA==' }],
      },
      400,
      'invalid_message',
    ],
    [
      'POST',
      '/v1/channels/bad/messages',
      { sender_actor_id: 'hu', input_items: [{ type: 'asset_reference', asset_id: 'asset-none' }] },
      404,
    ],
    [
      'POST',
      '/v1/channels/bad/messages',
      { sender_actor_id: 'hu', content: 'x', reply_to_message_id: 'msg-none' },
      400,
      'unknown_message',
    ],
    [
      'POST',
      '/v1/channels/bad/messages',
      { sender_actor_id: 'hu', content: 'x', thread_root_message_id: 'msg-none' },
      400,
      'unknown_message',
    ],
    [
      'POST',
      '/v1/channels/bad/messages',
      { sender_actor_id: 'hu', content: 'x', addressed_member_ids: ['ghost'] },
      400,
      'unknown_addressed_member',
    ],
    [
      'POST',
      '/v1/channels/bad/messages',
      { sender_actor_id: 'hu', sender_session_id: 'bad-s', content: 'x' },
      400,
      'sender_session_mismatch',
    ],
    [
      'POST',
      '/v1/channels/bad/messages',
      { sender_actor_id: 'bad-s', sender_session_id: 'other', content: 'x' },
      400,
      'sender_session_mismatch',
    ],
    [
      'POST',
      '/v1/channels/bad/messages',
      { sender_actor_id: 'ghost', content: 'x' },
      403,
      'sender_not_member',
    ],
    ['POST', `/v1/channels/bad/messages/${root.message_id}/reactions`, { actor_id: 'hu' }, 400],
    [
      'POST',
      `/v1/channels/bad/messages/${root.message_id}/reactions`,
      { actor_id: 'ghost', emoji: '👍' },
      403,
      'actor_not_member',
    ],
    [
      'POST',
      '/v1/channels/bad/messages/msg-none/reactions',
      { actor_id: 'hu', emoji: '👍' },
      404,
      'message_not_found',
    ],
    ['DELETE', `/v1/channels/bad/messages/${root.message_id}/reactions`, { emoji: '👍' }, 400],
    ['GET', '/v1/channels/bad/messages?limit=0', undefined, 400],
    ['GET', '/v1/channels/bad/messages?limit=abc', undefined, 400],
  ];
  for (const [method, path, body, status, code] of cases) {
    const res = await http(base(), method, path, body);
    assert.equal(res.status, status, `${method} ${path} ${JSON.stringify(body)}: ${res.text}`);
    assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/, `${method} ${path}`);
    if (code) assert.equal(res.body.code, code, `${method} ${path}: ${res.text}`);
  }
  assert.equal(await snapshot(), base0, 'nothing was written');
  assert.equal((await http(base(), 'GET', '/v1/channels/bad/leases')).body.leases.length, 0);
});

test('CLI: channels update merges policy flags; a bad flag value exits 2', async () => {
  const run = (...args: string[]) =>
    spawnSync(BIN, args, {
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, KHEISH_DAEMON_URL: base() },
    });
  const created = run(
    'channels',
    'create',
    'CLI',
    '--channel-id',
    'cli',
    '--member-cooldown-ms',
    '5',
    '--output',
    'json',
  );
  assert.equal(created.status, 0, created.stderr);
  const updated = run(
    'channels',
    'update',
    'cli',
    '--autonomy-policy-json',
    '{"lease_timeout_ms": 1000}',
    '--max-parallel-public-speakers',
    '3',
    '--pause',
    '--output',
    'json',
  );
  assert.equal(updated.status, 0, updated.stderr);
  const v = JSON.parse(updated.stdout);
  assert.equal(v.autonomy_policy.member_cooldown_ms, 5);
  assert.equal(v.autonomy_policy.lease_timeout_ms, 1000);
  assert.equal(v.autonomy_policy.max_parallel_public_speakers, 3);
  assert.equal(v.paused, true);
  assert.equal(run('channels', 'update', 'cli', '--lease-timeout-ms', 'soon').status, 2);
  assert.equal(run('channels', 'update', 'cli').status, 2, 'nothing to update');
  const missing = run('channels', 'get', 'nope');
  assert.equal(missing.status, 5, missing.stderr);
});
