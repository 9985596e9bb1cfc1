// Crash scenario: the daemon dies after a first turn (a tool call) is durable, during the second
// model call. The run must resume at turn 2: the first turn is not played again (no duplicated
// output, no extra model call that would run past the script into "(script exhausted)").
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  api,
  assertCleanRun,
  assertQuiescent,
  createSession,
  getRun,
  ITERATIONS,
  KillAim,
  NOOP_CALL,
  randomInt,
  runEvents,
  runIterations,
  sleep,
  submitRun,
  waitFor,
  waitTerminal,
} from './crash-kit.ts';

const DELAY_MS = 450;
const SCRIPT = {
  rules: [
    // The first turn speaks too, so a replay of it would show as a second "first" output.
    {
      match: '^visible',
      turns: [
        { text: 'first', tool_calls: [NOOP_CALL] },
        { delay_ms: DELAY_MS, text: 'second' },
      ],
    },
    // The brief's exact shape: a silent tool-call turn, then the slow answer.
    { match: '^silent', turns: [{ tool_calls: [NOOP_CALL] }, { delay_ms: DELAY_MS, text: 'second' }] },
  ],
};

test(`crash: SIGKILL between turns resumes at the second turn without replaying the first (${ITERATIONS} iterations)`, async (t) => {
  const aim = new KillAim();
  await runIterations({ script: SCRIPT }, async (rig, index) => {
    const visible = index % 2 === 0;
    const sid = await createSession(rig.url);
    const submitted = await submitRun(rig.url, sid, visible ? 'visible tool turn' : 'silent tool turn');
    if (visible) {
      // Turn 1 is durable once its output is visible; turn 2 (the slow one) is then in flight.
      await waitFor(
        'the first turn to be durable',
        async () => (await getRun(rig.url, submitted.run_id)).outputs?.length === 1,
      );
    } else {
      await waitFor(
        'the run to be running',
        async () => (await getRun(rig.url, submitted.run_id)).status === 'running',
      );
      await sleep(30); // turn 1 answers at once; let its tool result land
    }
    await sleep(randomInt(50, DELAY_MS - 150));
    const before = await getRun(rig.url, submitted.run_id);
    aim.record(
      before.status === 'running' && (before.outputs?.length ?? 0) === (visible ? 1 : 0),
      `run was ${before.status}`,
    );
    await rig.crashAndRestart();

    const [run] = await waitTerminal(rig.url, [submitted.run_id]);
    const expected = visible ? ['first', 'second'] : ['second'];
    assertCleanRun(run, await runEvents(rig.url, run.run_id), expected);

    // The session's own record agrees: daemon outputs and run events hold each output once.
    const log = await api(rig.url, 'GET', `/v1/sessions/${sid}/events`);
    assert.equal(log.status, 200, log.text);
    const outputs = (log.body.daemon_outputs as any[])
      .filter((o) => o.run_id === run.run_id)
      .map((o) => o.content);
    assert.deepEqual(outputs, expected, 'session daemon_outputs');
    const runEventOutputs = (log.body.run_events as any[])
      .filter((e) => e.run_id === run.run_id && e.event.type === 'output')
      .map((e) => e.event.output.content);
    assert.deepEqual(runEventOutputs, expected, 'session run_events outputs');
    assert.ok(!outputs.includes('(script exhausted)'), 'the run did not play past its script');
    assert.equal(log.body.session.snapshot.last_assistant_message, 'second', 'last assistant message');
    await assertQuiescent(rig.url, 'after restart:');
  });
  t.diagnostic(aim.assertMostlyHit('the second model call'));
});
