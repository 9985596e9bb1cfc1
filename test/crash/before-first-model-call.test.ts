// Crash scenario: the daemon dies right after acknowledging runs, before (most of) them reached their
// first model call. A 202 promises durability (ARCHITECTURE.md §4), so every acknowledged run must
// exist after the restart and complete exactly once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  api,
  assertCleanRun,
  assertQuiescent,
  createSession,
  ITERATIONS,
  NOOP_CALL,
  randomInt,
  runEvents,
  runIterations,
  sessionRuns,
  sleep,
  waitTerminal,
} from './crash-kit.ts';

// Two text turns, so "one output per scripted text turn" is checked across a turn boundary too.
const SCRIPT = {
  default: {
    turns: [
      { text: 'step one', tool_calls: [NOOP_CALL] },
      { delay_ms: 40, text: 'step two' },
    ],
  },
};
const OUTPUTS = ['step one', 'step two'];
const SESSIONS = 2;
const RUNS_PER_SESSION = 3;

test(`crash: SIGKILL before the first model call keeps every accepted run and completes it after restart (${ITERATIONS} iterations)`, async () => {
  await runIterations({ script: SCRIPT }, async (rig, index) => {
    const sessions = await Promise.all(Array.from({ length: SESSIONS }, () => createSession(rig.url)));
    // Fire all submissions at once. Even iterations kill as soon as every 202 is back; odd ones
    // kill while some submissions are still in flight (those may or may not exist afterwards).
    const inFlight = sessions.flatMap((sid) =>
      Array.from({ length: RUNS_PER_SESSION }, (_, k) =>
        api(rig.url, 'POST', `/v1/sessions/${sid}/runs`, { content: `run ${k}` }).then(
          (res) => ({ sid, k, res }),
          () => null,
        ),
      ),
    );
    if (index % 2 === 0) await Promise.all(inFlight);
    else await sleep(randomInt(0, 15));
    await rig.crash();
    const settled = await Promise.all(inFlight);
    const acked = settled.filter((s) => s !== null && s.res.status === 202).map((s) => s!.res.body);
    for (const s of settled) {
      if (s !== null)
        assert.ok([202].includes(s.res.status), `submit answered ${s.res.status}: ${s.res.text}`);
    }
    if (index % 2 === 0)
      assert.equal(acked.length, SESSIONS * RUNS_PER_SESSION, 'every submit was acknowledged');

    await rig.restart();

    // Every acknowledged run exists and completes exactly once.
    const runs = await waitTerminal(
      rig.url,
      acked.map((r) => r.run_id),
    );
    for (const run of runs)
      assertCleanRun(run, await runEvents(rig.url, run.run_id), OUTPUTS, 'acknowledged');

    // Unacknowledged submissions that did commit are fine, but they must not be stuck either.
    for (const sid of sessions) {
      const listed = await sessionRuns(rig.url, sid);
      const ids = listed.map((r) => r.run_id);
      for (const r of acked.filter((a) => a.session_id === sid))
        assert.ok(ids.includes(r.run_id), `acknowledged run ${r.run_id} is listed in its session`);
      const finals = await waitTerminal(rig.url, ids);
      for (const run of finals) assertCleanRun(run, await runEvents(rig.url, run.run_id), OUTPUTS, 'listed');
    }
    await assertQuiescent(rig.url, 'after restart:');
  });
});
