// Crash scenario: the daemon dies while a child agent (a sidechain) is running. After the restart the
// child finishes, and its parent learns the outcome exactly once: a parent blocked in wait_agent
// gets it as the tool result (the child_outcome message is consumed), a parent that already ended
// gets it as one mailbox_delivery run. The spawn itself never happens twice.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { queryState } from '../helpers/state-query.ts';
import {
  api,
  assertCleanRun,
  assertQuiescent,
  type CrashRig,
  createSession,
  getRun,
  ITERATIONS,
  KillAim,
  randomInt,
  runEvents,
  runIterations,
  sessionRuns,
  sleep,
  submitRun,
  waitFor,
  waitTerminal,
} from './crash-kit.ts';

const CHILD_DELAY_MS = 500;
const SCRIPT = {
  rules: [
    {
      match: '^wait for child',
      turns: [
        { tool_calls: [{ name: 'spawn_agent', arguments: { name: 'child', prompt: 'child work' } }] },
        { tool_calls: [{ name: 'wait_agent', arguments: {} }] },
        { text: 'parent saw the child' },
      ],
    },
    {
      match: '^leave child',
      turns: [
        { tool_calls: [{ name: 'spawn_agent', arguments: { name: 'child', prompt: 'child work' } }] },
        { text: 'parent left' },
      ],
    },
    { match: '^child work', turns: [{ delay_ms: CHILD_DELAY_MS, text: 'child result' }] },
    { match: '^Mailbox message', turns: [{ text: 'parent noted the outcome' }] },
  ],
};

/** The child_outcome rows about one child run (read-only look at the store, like the invariants do). */
function outcomeRows(
  rig: CrashRig,
  childRunId: string,
): Promise<Array<{ status: string; to_agent_id: string }>> {
  return queryState(
    rig.daemon,
    "select status, to_agent_id from mailbox_messages where kind = 'child_outcome' and correlation_id = ?",
    [childRunId],
  );
}

/** After a crash the spawn call may be asked about (outcome unknown): re-running it is idempotent. */
async function settleParent(url: string, runId: string): Promise<any> {
  for (;;) {
    const run = await waitFor('the parent to settle', async () => {
      const r = await getRun(url, runId);
      return ['completed', 'failed', 'cancelled', 'interrupted', 'waiting_for_approval'].includes(r.status)
        ? r
        : undefined;
    });
    if (run.status !== 'waiting_for_approval') return run;
    for (const a of run.pending_approvals)
      assert.equal(a.reason, 'outcome_unknown_after_restart', JSON.stringify(run.pending_approvals));
    await api(url, 'POST', `/v1/runs/${runId}/approvals`, {
      resolutions: run.pending_approval_ids.map((id: string) => ({ request_id: id, behavior: 'allow' })),
    });
  }
}

test(`crash: SIGKILL while a child runs — the parent always learns the child's outcome, exactly once (${ITERATIONS} iterations)`, async (t) => {
  const aim = new KillAim();
  await runIterations({ script: SCRIPT }, async (rig, index) => {
    const waits = index % 2 === 0;
    const sid = await createSession(rig.url);
    const parentAgent = (await api(rig.url, 'GET', `/v1/sessions/${sid}`)).body.agent_id as string;
    const parentRun = await submitRun(rig.url, sid, waits ? 'wait for child' : 'leave child');
    const child = await waitFor('the child to run', async () => {
      const [id] = (await api(rig.url, 'GET', `/v1/agents/${parentAgent}`)).body.children ?? [];
      if (!id) return undefined;
      const snap = (await api(rig.url, 'GET', `/v1/agents/${id}`)).body;
      const launch = snap.agent.launch_run_id && (await getRun(rig.url, snap.agent.launch_run_id));
      return launch?.status === 'running' ? { id, launch } : undefined;
    });
    // Aim into the child's model call, on the daemon's clock.
    await sleep(Math.max(0, child.launch.started_at_ms + randomInt(50, CHILD_DELAY_MS - 150) - Date.now()));
    const before = await getRun(rig.url, child.launch.run_id);
    aim.record(before.status === 'running' && !before.outputs?.length, `child run was ${before.status}`);
    await rig.crashAndRestart();

    const parent = await settleParent(rig.url, parentRun.run_id);
    const [childRun] = await waitTerminal(rig.url, [child.launch.run_id]);
    assertCleanRun(childRun, await runEvents(rig.url, childRun.run_id), ['child result'], 'child');
    assert.equal(parent.status, 'completed', `parent ${parent.error ?? ''}`);
    assert.equal(
      (await api(rig.url, 'GET', `/v1/agents/${parentAgent}`)).body.children.length,
      1,
      'spawned exactly once',
    );
    // Exactly one outcome for the child's run, and it was consumed or delivered.
    const settled = await waitFor('the outcome to reach the parent', async () => {
      const rows = await outcomeRows(rig, childRun.run_id);
      assert.ok(rows.length <= 1, `one child_outcome per child run, got ${rows.length}`);
      return rows.length === 1 && ['consumed', 'delivered'].includes(rows[0]!.status) ? rows[0] : undefined;
    });
    assert.equal(settled.to_agent_id, parentAgent);
    const deliveries = (await sessionRuns(rig.url, sid)).filter((r) => r.kind === 'mailbox_delivery');
    if (waits) {
      assert.equal(settled.status, 'consumed', 'the waiting parent took it from wait_agent');
      assert.equal(deliveries.length, 0, 'and was not told a second time');
      assert.deepEqual(
        parent.outputs.map((o: any) => o.content),
        ['parent saw the child'],
      );
    } else {
      assert.equal(deliveries.length, 1, 'one delivery run for one outcome');
      const [delivered] = await waitTerminal(rig.url, [deliveries[0].run_id]);
      assert.equal(delivered.input_metadata.mailbox.message_id, `child-outcome-${childRun.run_id}`);
      assert.deepEqual(
        delivered.outputs.map((o: any) => o.content),
        ['parent noted the outcome'],
      );
    }
    await assertQuiescent(rig.url, 'after restart:');
  });
  t.diagnostic(aim.assertMostlyHit("the child's model call"));
});
