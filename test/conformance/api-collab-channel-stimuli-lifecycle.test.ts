// Channel stimuli over time (api-collab §1.8, §1.11; decisions 359, 364): deferred availability,
// expiry, and deletion with the channel. Run on SQLite and, with KHEISH_TEST_STORE=postgres, on
// PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon, waitForRun } from '../helpers/daemon.ts';
import { sourceBody, upload, uploadBody } from '../helpers/observations.ts';

let d: TestDaemon;

before(async () => {
  d = await startDaemon({
    env: { KHEISH_STIMULUS_TICK_MS: '100' },
    script: { default: { turns: [{ text: 'NO_REPLY' }] } },
  });
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
});

async function channel(id: string) {
  const res = await http(d.url, 'POST', '/v1/channels', {
    channel_id: id,
    title: id,
    members: [{ member_id: 'alice', member_kind: 'human_actor', display_name: 'Alice' }],
  });
  assert.equal(res.status, 201, res.text);
  return (
    await http(d.url, 'POST', `/v1/channels/${id}/messages`, { sender_actor_id: 'alice', content: 'root' })
  ).body.message_id as string;
}
const list = async (id: string) =>
  (await http(d.url, 'GET', `/v1/channels/${id}/stimuli`)).body.stimuli as any[];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('api-collab §1.8: a stimulus waits for available_at_ms, and one past expires_at_ms is cancelled as expired', async () => {
  const root = await channel('life-time');
  const at = Date.now() + 1500;
  const later = await http(d.url, 'POST', '/v1/channels/life-time/stimuli', {
    scope: 'thread',
    thread_root_message_id: root,
    kind: 'thread_idle_followup',
    content: 'later',
    available_at_ms: at,
  });
  assert.equal(later.status, 201, later.text);
  // A paused channel holds its stimuli; expiry still applies to them.
  await channel('life-exp');
  await http(d.url, 'PUT', '/v1/channels/life-exp', { paused: true });
  const gone = await http(d.url, 'POST', '/v1/channels/life-exp/stimuli', {
    scope: 'channel',
    kind: 'agent_idea',
    content: 'too late',
    expires_at_ms: Date.now() + 300,
  });
  assert.equal(gone.status, 201, gone.text);
  await sleep(800);
  let s = await list('life-time');
  assert.equal(s[0].state, 'pending', 'not before available_at_ms');
  const [expired] = await list('life-exp');
  assert.deepEqual([expired.state, expired.state_reason], ['cancelled', 'expired']);
  for (let i = 0; i < 100 && s[0].state !== 'dispatched'; i++) {
    await sleep(50);
    s = await list('life-time');
  }
  assert.equal(s[0].state, 'dispatched');
  assert.ok(s[0].dispatched_at_ms >= at, 'posted once available');
  const bad = await http(d.url, 'POST', '/v1/channels/life-time/stimuli', {
    scope: 'channel',
    kind: 'agent_idea',
    content: 'x',
    available_at_ms: 2000,
    expires_at_ms: 1000,
  });
  assert.equal(bad.status, 400, bad.text);
});

test('api-collab §1.11: deleting a channel deletes its stimuli and thread-work', async () => {
  const root = await channel('life-del');
  await http(d.url, 'PUT', '/v1/channels/life-del', { paused: true });
  for (const content of ['a', 'b'])
    assert.equal(
      (
        await http(d.url, 'POST', '/v1/channels/life-del/stimuli', {
          scope: 'thread',
          thread_root_message_id: root,
          kind: 'agent_idea',
          content,
          source_kind: 'task',
          source_ref: 'task-x',
        })
      ).status,
      201,
    );
  assert.equal((await list('life-del')).length, 2);
  assert.deepEqual((await http(d.url, 'DELETE', '/v1/channels/life-del')).body, { accepted: true });
  assert.equal((await http(d.url, 'GET', '/v1/channels/life-del/stimuli')).status, 404);
  await channel('life-del');
  assert.deepEqual(await list('life-del'), [], 'a channel of the same id starts with an empty queue');
  assert.deepEqual((await http(d.url, 'GET', '/v1/channels/life-del/thread-work')).body.thread_work, []);
  assert.equal(
    (await http(d.url, 'GET', '/v1/channels/life-del')).body.moderation_metrics.suppressed_stimuli,
    0,
  );
});

test('api-collab §1.8 (decision 367): a materialization of a watched source queues observation_materialized in the thread', async () => {
  const token = 'cam-upload-token-0123456789';
  assert.equal(
    (await http(d.url, 'POST', '/v1/observation-sources', sourceBody('cam-1', token))).status,
    201,
  );
  const up = await upload(d.url, 'cam-1', token, uploadBody('frame-1', 1));
  assert.ok(up.status < 300 && up.body.observation_id, up.text);
  const root = await channel('life-obs');
  const watch = await http(d.url, 'POST', '/v1/channels/life-obs/stimuli', {
    scope: 'thread',
    thread_root_message_id: root,
    kind: 'agent_idea',
    content: 'watching cam-1',
    source_kind: 'observation',
    source_ref: 'cam-1',
  });
  assert.equal(watch.status, 201, watch.text);
  for (let i = 0; i < 100 && (await list('life-obs'))[0].state !== 'dispatched'; i++) await sleep(50);
  assert.equal((await http(d.url, 'POST', '/v1/sessions', { session_id: 'analyst' })).status, 201);
  const m = await http(d.url, 'POST', '/v1/observation-materializations', {
    target_session_id: 'analyst',
    selection: { type: 'observation_ids', observation_ids: [up.body.observation_id] },
    request: { content: 'What changed?' },
  });
  assert.equal(m.status, 202, m.text);
  await waitForRun(d.url, m.body.run_id);
  let s = await list('life-obs');
  for (let i = 0; i < 100 && s.at(-1)?.state !== 'dispatched'; i++) {
    await sleep(50);
    s = await list('life-obs');
  }
  assert.deepEqual(
    s.map((x) => [x.kind, x.state]),
    [
      ['agent_idea', 'dispatched'],
      ['observation_materialized', 'dispatched'],
    ],
  );
  assert.equal(s[1].thread_root_message_id, root);
  assert.match(s[1].content, new RegExp(m.body.run_id));
});
