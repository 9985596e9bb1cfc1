// Crash scenarios of the channel stimulus queue (api-collab §1.13; decision 360): the daemon is
// SIGKILLed while its worker claims and posts stimuli. After the restart no stimulus is posted
// twice, none is lost and none stays claimed. Two exact cases pin the crash window between the post
// and the `dispatched` mark: a claimed stimulus whose message exists is reused, one without a
// message is posted once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { queryState } from '../helpers/state-query.ts';
import { execState } from '../helpers/state-write.ts';
import { api, CrashRig, KillAim, randomInt, runIterations, sleep, waitFor } from './crash-kit.ts';

const SCRIPT = { default: { turns: [{ text: 'NO_REPLY' }] } };
const ENV = { KHEISH_STIMULUS_TICK_MS: '50' };
const N = 24;

async function channel(url: string, id: string): Promise<string> {
  const c = await api(url, 'POST', '/v1/channels', {
    channel_id: id,
    title: id,
    autonomy_policy: { max_pending_stimuli: 64 },
    members: [{ member_id: 'alice', member_kind: 'human_actor', display_name: 'Alice' }],
  });
  assert.equal(c.status, 201, c.text);
  const root = await api(url, 'POST', `/v1/channels/${id}/messages`, {
    sender_actor_id: 'alice',
    content: 'root',
  });
  assert.equal(root.status, 201, root.text);
  return root.body.message_id;
}

const stimuli = async (url: string, id: string) =>
  (await api(url, 'GET', `/v1/channels/${id}/stimuli`)).body.stimuli as any[];

/** Every stimulus dispatched exactly once: one message each, named by its metadata. */
async function assertOnce(url: string, id: string, expected: number, where: string): Promise<void> {
  const all = await waitFor(
    `${where}: all dispatched`,
    async () => {
      const s = await stimuli(url, id);
      return s.every((x) => x.state === 'dispatched') && s;
    },
    20_000,
  );
  assert.equal(all.length, expected, where);
  const messages = (await api(url, 'GET', `/v1/channels/${id}/messages`)).body.messages as any[];
  const posted = messages.filter((m) => m.metadata.kheish_stimulus_id);
  assert.equal(posted.length, expected, `${where}: one message per stimulus`);
  assert.equal(
    new Set(posted.map((m) => m.metadata.kheish_stimulus_id)).size,
    expected,
    `${where}: no stimulus posted twice`,
  );
  for (const s of all)
    assert.equal(
      posted.find((m) => m.metadata.kheish_stimulus_id === s.stimulus_id)?.message_id,
      s.dispatched_message_id,
      `${where}: ${s.stimulus_id} names its message`,
    );
}

test('crash: SIGKILL while the worker posts stimuli: none posted twice, none lost, none stuck', async (t) => {
  const aim = new KillAim();
  await runIterations({ script: SCRIPT, env: ENV }, async (rig, i) => {
    const id = `flood-${i}`;
    const root = await channel(rig.url, id);
    assert.equal((await api(rig.url, 'PUT', `/v1/channels/${id}`, { paused: true })).status, 200);
    for (let k = 0; k < N; k++) {
      const r = await api(rig.url, 'POST', `/v1/channels/${id}/stimuli`, {
        scope: 'thread',
        thread_root_message_id: root,
        kind: 'sidechain_milestone',
        content: `step ${k}`,
      });
      assert.equal(r.status, 201, r.text);
    }
    assert.equal((await api(rig.url, 'PUT', `/v1/channels/${id}`, { paused: false })).status, 200);
    await sleep(randomInt(0, 120));
    await rig.crash();
    const states = await queryState<{ state: string }>(
      rig.daemon,
      'select state from channel_stimuli where channel_id = ?',
      [id],
    );
    const done = states.filter((s) => s.state === 'dispatched').length;
    const claimed = states.filter((s) => s.state === 'claimed').length;
    aim.record(claimed > 0 || (done > 0 && done < N), `${done} dispatched, ${claimed} claimed`);
    await rig.restart();
    await assertOnce(rig.url, id, N, `iteration ${i}`);
  });
  t.diagnostic(aim.assertMostlyHit('the middle of the flood'));
});

test('crash: a claimed stimulus whose post committed is reused; one without a post is posted once', async () => {
  const rig = await CrashRig.start({ script: SCRIPT, env: ENV });
  try {
    const root = await channel(rig.url, 'window');
    const first = await api(rig.url, 'POST', '/v1/channels/window/stimuli', {
      scope: 'thread',
      thread_root_message_id: root,
      kind: 'task_completed',
      content: 'posted before the crash',
    });
    await waitFor(
      'first dispatched',
      async () => (await stimuli(rig.url, 'window'))[0]?.state === 'dispatched',
    );
    const postedId = (await stimuli(rig.url, 'window'))[0].dispatched_message_id;
    assert.equal((await api(rig.url, 'PUT', '/v1/channels/window', { paused: true })).status, 200);
    const second = await api(rig.url, 'POST', '/v1/channels/window/stimuli', {
      scope: 'thread',
      thread_root_message_id: root,
      kind: 'agent_idea',
      content: 'claimed, never posted',
    });
    await rig.crash();
    // The state a SIGKILL leaves between a claim and its `dispatched` mark, with and without the post.
    await execState(
      rig.daemon,
      "update channel_stimuli set state = 'claimed', dispatched_message_id = null, dispatched_at_ms = null where stimulus_id = ?",
      [first.body.stimulus_id],
    );
    await execState(rig.daemon, "update channel_stimuli set state = 'claimed' where stimulus_id = ?", [
      second.body.stimulus_id,
    ]);
    await execState(rig.daemon, "update channels set paused = 0 where channel_id = 'window'");
    await rig.restart();
    await assertOnce(rig.url, 'window', 2, 'window');
    const after = await stimuli(rig.url, 'window');
    assert.equal(after[0].dispatched_message_id, postedId, 'the committed post was reused');
  } finally {
    await rig.dispose();
  }
});
