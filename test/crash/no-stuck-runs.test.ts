// Crash scenario: after a restart (including a second crash during recovery) the daemon's
// counters tell the truth: `runs.running` in /v1/status equals the runs that actually execute,
// and everything reaches 0 once the work is done. A run left `running` without an executor
// (or `queued` behind nothing) would be stuck forever.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  assertCleanRun,
  assertQuiescent,
  createSession,
  daemonStatus,
  ITERATIONS,
  KillAim,
  randomInt,
  runEvents,
  runIterations,
  sessionRuns,
  sleep,
  submitRun,
  waitTerminal,
} from './crash-kit.ts';

const SESSIONS = 3;
const RUNS_PER_SESSION = 2;
const DELAY_MS = 300;
const SCRIPT = { default: { turns: [{ delay_ms: DELAY_MS, text: 'finished' }] } };

/**
 * Samples /v1/status and the run lists until two consecutive samples agree that
 * running == active executors == runs listed as running == busy sessions (one running run each),
 * while work is still executing. Returns false when the work finished before such a pair was seen.
 */
async function countersAgreeWhileBusy(url: string, sessions: string[], where: string): Promise<boolean> {
  const deadline = Date.now() + 5000;
  let agreed = 0;
  for (;;) {
    const status = await daemonStatus(url);
    const lists = await Promise.all(sessions.map((sid) => sessionRuns(url, sid)));
    const listedRunning = lists.flat().filter((r) => r.status === 'running').length;
    const busySessions = lists.filter((l) =>
      l.some((r) => r.status === 'running' || r.status === 'queued'),
    ).length;
    const { running, active_executors, queued } = status.runs;
    if (busySessions === 0 && running === 0 && queued === 0) return false;
    const consistent =
      running === active_executors && running === listedRunning && listedRunning === busySessions;
    agreed = consistent ? agreed + 1 : 0;
    if (agreed >= 2) return true;
    if (Date.now() > deadline) {
      const last = JSON.stringify({ running, active_executors, listedRunning, busySessions, queued });
      assert.fail(`${where}: status counters never matched the executing runs: ${last}`);
    }
    await sleep(20);
  }
}

test(`crash: no run is stuck after restart; status running equals the executing runs and drops to 0 (${ITERATIONS} iterations)`, async (t) => {
  const aim = new KillAim();
  await runIterations({ script: SCRIPT }, async (rig, index) => {
    const sessions = await Promise.all(Array.from({ length: SESSIONS }, () => createSession(rig.url)));
    const ids = (
      await Promise.all(
        sessions.map(async (sid) => {
          const out: string[] = [];
          for (let k = 0; k < RUNS_PER_SESSION; k++)
            out.push((await submitRun(rig.url, sid, `task ${k}`)).run_id);
          return out;
        }),
      )
    ).flat();
    await sleep(randomInt(50, DELAY_MS + 100));
    await rig.crashAndRestart();
    if (index % 2 === 1) {
      // A second crash while the restarted daemon is recovering and resuming.
      await sleep(randomInt(0, 100));
      await rig.crashAndRestart();
    }
    aim.record(
      await countersAgreeWhileBusy(rig.url, sessions, 'after restart'),
      'work finished before sampling',
    );

    const runs = await waitTerminal(rig.url, ids);
    for (const run of runs) assertCleanRun(run, await runEvents(rig.url, run.run_id), ['finished']);
    await assertQuiescent(rig.url, 'after all runs completed:');
    const status = await daemonStatus(rig.url);
    assert.equal(status.runs.running, 0, 'status runs.running');
    assert.equal(status.runs.queued, 0, 'status runs.queued');
  });
  t.diagnostic(aim.assertMostlyHit('a restart with runs still executing'));
});
