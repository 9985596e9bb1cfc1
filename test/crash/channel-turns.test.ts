// Crash scenarios of channel turns (api-collab §1.13; decisions 340, 345): SIGKILL while a session
// member holds a public-turn lease (its channel_delivery run mid-model-call), and while the run
// waits for an approval. After the restart every lease is reattached to its run or settled, each
// delivery posts exactly once, and the channel's counters agree with its log.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/daemon.ts';
import {
  api,
  createSession,
  getRun,
  ITERATIONS,
  randomInt,
  runIterations,
  sleep,
  waitFor,
  waitTerminal,
} from './crash-kit.ts';

const workspace = tempDir('kheish-crash-channels-');
const script = {
  rules: [
    { match: 'You are Talker', turns: [{ delay_ms: 300, text: 'talker answers' }] },
    { match: 'You are Sleeper', turns: [{ delay_ms: 60_000, text: 'too late' }] },
    ...Array.from({ length: ITERATIONS + 2 }, (_, k) => ({
      match: `You are Editor e${k} `,
      turns: [
        {
          tool_calls: [
            { name: 'edit_file', arguments: { path: `e${k}.txt`, old_text: 'n', new_text: 'nn' } },
          ],
        },
        { text: 'edited' },
      ],
    })),
  ] as unknown[],
  default: { turns: [{ text: 'NO_REPLY' }] },
};
const opts = { script, args: ['--workspace-root', workspace] };

async function channelWith(url: string, id: string, member: { id: string; name: string }, leaseMs = 600_000) {
  const res = await api(url, 'POST', '/v1/channels', {
    channel_id: id,
    title: id,
    autonomy_policy: { lease_timeout_ms: leaseMs, member_cooldown_ms: 0 },
    members: [
      { member_id: 'hu', member_kind: 'human_actor', display_name: 'Hu' },
      { member_id: member.id, member_kind: 'session', session_id: member.id, display_name: member.name },
    ],
  });
  assert.equal(res.status, 201, res.text);
}

async function activeLease(url: string, id: string) {
  return waitFor('a lease with its run', async () => {
    const leases = (await api(url, 'GET', `/v1/channels/${id}/leases`)).body.leases;
    return leases[0]?.active_run_id ? leases[0] : undefined;
  });
}

/** The channel once its turn is over: exactly one agent post, from the lease's run. */
async function settledOnce(url: string, id: string, runId: string, text: string) {
  const messages = await waitFor('the reply to be posted and the lease released', async () => {
    const leases = (await api(url, 'GET', `/v1/channels/${id}/leases`)).body.leases;
    const list = (await api(url, 'GET', `/v1/channels/${id}/messages`)).body.messages;
    return leases.length === 0 && list.length >= 2 ? list : undefined;
  });
  await sleep(200);
  const again = (await api(url, 'GET', `/v1/channels/${id}/messages`)).body.messages;
  assert.equal(again.length, messages.length, 'no late duplicate');
  const replies = again.filter((m: any) => m.sender.member_kind === 'session');
  assert.equal(replies.length, 1, `one post per delivery: ${JSON.stringify(replies)}`);
  assert.equal(replies[0].origin_run_id, runId);
  assert.equal(replies[0].output.content, text);
  const view = (await api(url, 'GET', `/v1/channels/${id}`)).body;
  assert.equal(view.moderation_metrics.turns_granted, 1);
  assert.equal(view.moderation_metrics.agent_replies_posted, 1);
  assert.equal(view.moderation_metrics.active_leases, 0);
}

test(`crash: SIGKILL while a member holds a lease: after restart the lease is reattached and the reply posted once (${ITERATIONS} iterations)`, async () => {
  await runIterations(opts, async (rig, k) => {
    const sid = await createSession(rig.url);
    const id = `held-${rig.lane}-${k}`;
    await channelWith(rig.url, id, { id: sid, name: 'Talker' });
    const posted = await api(rig.url, 'POST', `/v1/channels/${id}/messages`, {
      sender_actor_id: 'hu',
      content: 'hi',
    });
    assert.equal(posted.status, 201, posted.text);
    const lease = await activeLease(rig.url, id);
    await sleep(randomInt(0, 350));
    await rig.crashAndRestart();
    const [run] = await waitTerminal(rig.url, [lease.active_run_id], 20_000);
    assert.equal(run.status, 'completed', JSON.stringify(run));
    assert.equal(run.kind, 'channel_delivery');
    await settledOnce(rig.url, id, lease.active_run_id, 'talker answers');
  });
});

test(`crash: SIGKILL while a channel_delivery run waits for approval: the lease survives, approving posts once (${ITERATIONS} iterations)`, async () => {
  await runIterations(opts, async (rig, k) => {
    const sid = await createSession(rig.url);
    const id = `approve-${rig.lane}-${k}`;
    await channelWith(rig.url, id, { id: sid, name: `Editor e${k}` });
    writeFileSync(join(workspace, `e${k}.txt`), 'n');
    await api(rig.url, 'POST', `/v1/channels/${id}/messages`, { sender_actor_id: 'hu', content: 'edit it' });
    const lease = await activeLease(rig.url, id);
    const waiting = await waitFor('the delivery run to wait for approval', async () => {
      const r = await getRun(rig.url, lease.active_run_id);
      return r.status === 'waiting_for_approval' ? r : undefined;
    });
    await rig.crashAndRestart();
    const after = (await api(rig.url, 'GET', `/v1/channels/${id}/leases`)).body.leases;
    assert.equal(after.length, 1, 'the lease is still held');
    assert.equal(after[0].turn_id, lease.turn_id);
    assert.equal(after[0].active_run_id, lease.active_run_id);
    const run = await getRun(rig.url, lease.active_run_id);
    assert.equal(run.status, 'waiting_for_approval');
    assert.deepEqual(run.pending_approval_ids, waiting.pending_approval_ids);
    const ok = await api(rig.url, 'POST', `/v1/runs/${run.run_id}/approvals`, {
      resolutions: run.pending_approval_ids.map((rid: string) => ({ request_id: rid, behavior: 'allow' })),
    });
    assert.ok([200, 202].includes(ok.status), ok.text);
    const [done] = await waitTerminal(rig.url, [run.run_id], 20_000);
    assert.equal(done.status, 'completed', JSON.stringify(done));
    assert.equal(readFileSync(join(workspace, `e${k}.txt`), 'utf8'), 'nn', 'the approved edit ran once');
    await settledOnce(rig.url, id, run.run_id, 'edited');
  });
});

test(`crash: a lease that times out across a restart expires: its run is cancelled and nothing is posted (${ITERATIONS} iterations)`, async () => {
  await runIterations(opts, async (rig, k) => {
    const sid = await createSession(rig.url);
    const id = `expire-${rig.lane}-${k}`;
    await channelWith(rig.url, id, { id: sid, name: 'Sleeper' }, 2_000);
    await api(rig.url, 'POST', `/v1/channels/${id}/messages`, {
      sender_actor_id: 'hu',
      content: 'take your time',
    });
    const lease = await activeLease(rig.url, id);
    await rig.crashAndRestart();
    const [run] = await waitTerminal(rig.url, [lease.active_run_id], 20_000);
    assert.equal(run.status, 'cancelled', JSON.stringify(run));
    const view = (await api(rig.url, 'GET', `/v1/channels/${id}`)).body;
    assert.equal(view.moderation_metrics.leases_expired, 1);
    assert.equal(view.moderation_metrics.active_leases, 0);
    assert.equal(view.moderation_metrics.agent_replies_posted, 0);
    assert.equal((await api(rig.url, 'GET', `/v1/channels/${id}/messages`)).body.messages.length, 1);
  });
});
