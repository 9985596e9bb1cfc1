// Crash scenario: the daemon dies while a model call is in flight. Nothing of that call is durable,
// so after the restart the run resumes from its last turn boundary (the start), calls the model
// again and completes with exactly one output.
import { test } from 'node:test';
import {
  assertCleanRun,
  assertQuiescent,
  createSession,
  getRun,
  ITERATIONS,
  KillAim,
  randomInt,
  runEvents,
  runIterations,
  sleep,
  submitRun,
  waitFor,
  waitTerminal,
} from './crash-kit.ts';

const DELAY_MS = 450;
const SCRIPT = { default: { turns: [{ delay_ms: DELAY_MS, text: 'slow answer' }] } };

test(`crash: SIGKILL during a model call resumes the run after restart and completes it with one output (${ITERATIONS} iterations)`, async (t) => {
  const aim = new KillAim();
  await runIterations({ script: SCRIPT }, async (rig) => {
    const sid = await createSession(rig.url);
    const submitted = await submitRun(rig.url, sid, 'think slowly');
    const running = await waitFor('the run to be running', async () => {
      const r = await getRun(rig.url, submitted.run_id);
      return r.status === 'running' ? r : undefined;
    });
    // Aim 50..DELAY-150 ms into the model call, on the daemon's clock (started_at_ms).
    await sleep(Math.max(0, running.started_at_ms + randomInt(50, DELAY_MS - 150) - Date.now()));
    const before = await getRun(rig.url, submitted.run_id);
    aim.record(before.status === 'running' && !before.outputs?.length, `run was ${before.status}`);
    await rig.crashAndRestart();

    const [run] = await waitTerminal(rig.url, [submitted.run_id]);
    assertCleanRun(run, await runEvents(rig.url, run.run_id), ['slow answer']);
    await assertQuiescent(rig.url, 'after restart:');
  });
  t.diagnostic(aim.assertMostlyHit('the model call'));
});
