// Crash scenario: SIGKILL while mailbox deliveries are queued and one is in flight (and a post may
// be half-way). After the restart every accepted message is delivered exactly once, in post order,
// one delivery run at a time; a post the crash cut off is retried with its message_id and is
// either a duplicate (it was committed) or accepted now, never delivered twice.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  api,
  assertCleanRun,
  assertQuiescent,
  createSession,
  ITERATIONS,
  KillAim,
  randomInt,
  runEvents,
  runIterations,
  sessionRuns,
  sleep,
  waitFor,
  waitTerminal,
} from './crash-kit.ts';

const DELAY_MS = 120;
const SCRIPT = {
  rules: [{ match: 'subject: crash-', turns: [{ delay_ms: DELAY_MS, text: 'handled' }] }],
  default: { turns: [{ text: 'ok' }] },
};

async function agentOf(url: string, sessionId: string): Promise<string> {
  const res = await api(url, 'GET', `/v1/sessions/${sessionId}`);
  assert.equal(res.status, 200, res.text);
  return res.body.agent_id as string;
}

test(`crash: SIGKILL while a mailbox delivery is queued — no message is delivered twice or lost (${ITERATIONS} iterations)`, async (t) => {
  const aim = new KillAim();
  await runIterations({ script: SCRIPT }, async (rig, index) => {
    const from = await agentOf(rig.url, await createSession(rig.url));
    const targetSession = await createSession(rig.url);
    const to = await agentOf(rig.url, targetSession);
    const ids = [1, 2, 3, 4].map((k) => `msg-crash-${rig.lane}-${index}-${k}`);
    const body = (id: string, k: number) => ({
      message_id: id,
      from_agent_id: from,
      to_agent_id: to,
      subject: `crash-${k}`,
      payload: { k },
    });
    for (const [k, id] of ids.slice(0, 3).entries()) {
      const res = await api(rig.url, 'POST', '/v1/mailboxes', body(id, k + 1));
      assert.equal(res.status, 202, res.text);
    }
    await sleep(randomInt(0, 3 * DELAY_MS));
    const box = await api(rig.url, 'GET', `/v1/agents/${to}/mailbox`);
    const states = (box.body as any[]).map((m) => m.state);
    aim.record(
      states.includes('delivering') && states.includes('pending'),
      `mailbox was [${states.join(',')}]`,
    );
    // The last post races the kill: it may or may not have been committed.
    const late = api(rig.url, 'POST', '/v1/mailboxes', body(ids[3]!, 4)).catch(() => null);
    await rig.crash();
    const lateResult = await late;
    await rig.restart();

    const retry = await api(rig.url, 'POST', '/v1/mailboxes', body(ids[3]!, 4));
    assert.equal(retry.status, 202, retry.text);
    if (lateResult?.status === 202)
      assert.equal(retry.body.duplicate, true, 'an acknowledged post is durable');

    const deliveries = await waitFor(
      'all four deliveries',
      async () => {
        const runs = (await sessionRuns(rig.url, targetSession)).filter((r) => r.kind === 'mailbox_delivery');
        return runs.length >= 4 && runs;
      },
      20_000,
    );
    const runs = await waitTerminal(
      rig.url,
      deliveries.map((r) => r.run_id),
    );
    assert.deepEqual(
      runs.map((r) => r.input_metadata?.mailbox?.message_id),
      ids,
      'each message delivered exactly once, in post order',
    );
    for (const run of runs) assertCleanRun(run, await runEvents(rig.url, run.run_id), ['handled']);
    for (let i = 1; i < runs.length; i++)
      assert.ok(runs[i].started_at_ms >= runs[i - 1].finished_at_ms, `delivery ${i + 1} overlapped ${i}`);
    await waitFor('an empty mailbox', async () => {
      const res = await api(rig.url, 'GET', `/v1/agents/${to}/mailbox`);
      return (res.body as any[]).length === 0;
    });
    assert.deepEqual((await api(rig.url, 'GET', `/v1/agents/${to}/mailbox/dead-letter`)).body, []);
    // Nothing more shows up later (no second run for any message).
    assert.equal(
      (await sessionRuns(rig.url, targetSession)).filter((r) => r.kind === 'mailbox_delivery').length,
      4,
    );
    await assertQuiescent(rig.url, 'after restart:');
  });
  t.diagnostic(aim.assertMostlyHit('a delivery in flight with more queued'));
});
