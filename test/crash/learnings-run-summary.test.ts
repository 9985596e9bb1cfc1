// Crash scenario for the learning plane (concepts §4.10, decisions 481 and 494): the daemon is
// SIGKILLed around a run's model call and completion. After the restart the run ends once, it has
// exactly one daemon-origin run_summary candidate (written in the transaction that made the run
// terminal), and that candidate carries one automatic review (the boot scan reviews a candidate
// whose review the crash cut off). Both stores (KHEISH_TEST_STORE=postgres).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  api,
  createSession,
  getRun,
  ITERATIONS,
  randomInt,
  runIterations,
  sleep,
  submitRun,
  waitFor,
  waitTerminal,
} from './crash-kit.ts';

const DELAY_MS = 300;
const SCRIPT = { default: { turns: [{ delay_ms: DELAY_MS, text: 'summary material' }] } };

test(`crash: SIGKILL around a run's end leaves exactly one reviewed run_summary candidate (${ITERATIONS} iterations)`, async () => {
  await runIterations({ script: SCRIPT }, async (rig) => {
    const sid = await createSession(rig.url);
    const submitted = await submitRun(rig.url, sid, 'collect the release notes');
    const running = await waitFor('the run to be running', async () => {
      const r = await getRun(rig.url, submitted.run_id);
      return r.status !== 'queued' ? r : undefined;
    });
    // Anywhere from inside the model call to just after the run completed.
    await sleep(
      Math.max(0, (running.started_at_ms ?? Date.now()) + randomInt(100, DELAY_MS + 150) - Date.now()),
    );
    await rig.crashAndRestart();
    const [run] = await waitTerminal(rig.url, [submitted.run_id]);
    const list = async () =>
      (
        await api(
          rig.url,
          'GET',
          `/v1/learning-candidates?scope_kind=session&scope_id=${sid}&kind=run_summary`,
        )
      ).body as any[];
    const reviewed = await waitFor('the run_summary candidate to be reviewed', async () => {
      const found = await list();
      return found.length === 1 && found[0].automation_review ? found : undefined;
    });
    await sleep(200);
    const again = await list();
    assert.equal(again.length, 1, `one candidate for ${run.run_id}: ${JSON.stringify(again)}`);
    assert.equal(again[0].source.run_id, run.run_id);
    assert.equal(again[0].origin, 'daemon');
    assert.match(again[0].content, new RegExp(`Run ${run.status}`));
    assert.deepEqual(again[0].automation_review, reviewed[0].automation_review, 'reviewed once');
  });
});
