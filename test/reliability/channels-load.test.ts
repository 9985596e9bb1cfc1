// Load: 50 channels x 10 session members x 20 human messages, all posted in parallel (each message
// a new subject, so each opens a thread with one turn under max_agent_replies_per_human_message 1).
// Afterwards every lease is released, every delivery run is terminal (completed), each channel's
// counters equal its log exactly, and no message was posted twice for a run.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon } from '../helpers/daemon.ts';

// PostgreSQL commits cost this shared 2-core machine ~10x SQLite's (session creation alone): there
// the same scenario runs on 10 channels by default so the pass stays near a minute.
const CHANNELS = Number(
  process.env.KHEISH_CHANNELS_LOAD ?? (process.env.KHEISH_TEST_STORE === 'postgres' ? 10 : 50),
);
const MEMBERS = 10;
const MESSAGES = 20;

let d: TestDaemon;
before(async () => {
  d = await startDaemon({ script: { default: { turns: [{ text: 'ack' }] } } });
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
});

async function pool<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

test(`load: ${CHANNELS} channels x ${MEMBERS} members x ${MESSAGES} human messages in parallel; leases released, runs terminal, counters exact`, async (t) => {
  const t0 = Date.now();
  const channels = Array.from({ length: CHANNELS }, (_, c) => `load-${c}`);
  const sessions = channels.flatMap((id) => Array.from({ length: MEMBERS }, (_, m) => `${id}-m${m}`));
  // Many at once: concurrent writes share group commits.
  await pool(sessions, 64, async (sid) => {
    const s = await http(d.url, 'POST', '/v1/sessions', { session_id: sid });
    assert.equal(s.status, 201, s.text);
  });
  await pool(channels, 16, async (id) => {
    const members: unknown[] = [{ member_id: 'hu', member_kind: 'human_actor', display_name: 'Hu' }];
    for (let m = 0; m < MEMBERS; m++)
      members.push({ member_id: `${id}-m${m}`, member_kind: 'session', display_name: `M${m}` });
    const res = await http(d.url, 'POST', '/v1/channels', {
      channel_id: id,
      title: id,
      members,
      autonomy_policy: { max_agent_replies_per_human_message: 1, member_cooldown_ms: 0 },
    });
    assert.equal(res.status, 201, res.text);
  });

  const posts = channels.flatMap((id) => Array.from({ length: MESSAGES }, (_, k) => ({ id, k })));
  await pool(posts, 50, async ({ id, k }) => {
    const r = await http(d.url, 'POST', `/v1/channels/${id}/messages`, {
      sender_actor_id: 'hu',
      content: `q${k}`,
    });
    assert.equal(r.status, 201, r.text);
  });

  const t1 = Date.now();
  const deadline = Date.now() + 120_000;
  for (;;) {
    let open = 0;
    for (const id of channels)
      open += (await http(d.url, 'GET', `/v1/channels/${id}/leases`)).body.leases.length;
    if (open === 0) break;
    assert.ok(Date.now() < deadline, `${open} leases still active`);
    await new Promise((r) => setTimeout(r, 250));
  }

  t.diagnostic(`setup ${t1 - t0} ms, posts and turns ${Date.now() - t1} ms`);
  let runs = 0;
  await pool(channels, 8, async (id) => {
    const view = (await http(d.url, 'GET', `/v1/channels/${id}`)).body;
    const messages = (await http(d.url, 'GET', `/v1/channels/${id}/messages`)).body.messages;
    const humans = messages.filter((m: any) => m.sender.member_kind === 'human_actor');
    const replies = messages.filter((m: any) => m.sender.member_kind === 'session');
    assert.equal(humans.length, MESSAGES);
    assert.equal(replies.length, MESSAGES, `${id}: one reply per human message`);
    const runIds = new Set(replies.map((m: any) => m.origin_run_id));
    assert.equal(runIds.size, replies.length, 'one post per run');
    for (const h of humans)
      assert.equal(replies.filter((m: any) => m.thread_root_message_id === h.message_id).length, 1);
    const mm = view.moderation_metrics;
    assert.equal(mm.turns_granted, MESSAGES, id);
    assert.equal(mm.agent_replies_posted, MESSAGES, id);
    assert.equal(mm.deliveries_without_post, 0, id);
    assert.equal(mm.leases_expired, 0, id);
    assert.equal(mm.active_leases, 0, id);
    assert.equal(view.message_count, 2 * MESSAGES);
    for (const runId of runIds) {
      const run = (await http(d.url, 'GET', `/v1/runs/${runId}`)).body;
      assert.equal(run.kind, 'channel_delivery');
      assert.equal(run.status, 'completed');
      runs++;
    }
  });
  assert.equal(runs, CHANNELS * MESSAGES);
});
