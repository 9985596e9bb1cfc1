// Crash scenario: several sessions each have a run executing and more queued when the daemon dies.
// After the restart nothing is lost, each session still runs one run at a time in submission
// order (per-session FIFO, ARCHITECTURE.md §5), and everything drains.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ACTIVE,
  assertCleanRun,
  assertQuiescent,
  createSession,
  ITERATIONS,
  randomInt,
  runEvents,
  runIterations,
  sessionRuns,
  sleep,
  submitRun,
  TERMINAL,
} from './crash-kit.ts';

const SESSIONS = 5;
const RUNS_PER_SESSION = 3;
const DELAY_MS = 200;
const SCRIPT = { default: { turns: [{ delay_ms: DELAY_MS, text: 'done' }] } };

/** Checks one sample of a session's runs against the FIFO rules; returns true when all are terminal. */
function checkSample(sid: string, order: string[], listed: any[], where: string): boolean {
  const byId = new Map(listed.map((r) => [r.run_id, r]));
  const statuses = order.map((id) => byId.get(id)?.status);
  const ctx = `${where} session ${sid} statuses in submission order ${JSON.stringify(statuses)}`;
  assert.ok(
    statuses.every((s) => s !== undefined),
    `${ctx}: every accepted run exists`,
  );
  assert.ok(statuses.filter((s) => ACTIVE.includes(s)).length <= 1, `${ctx}: at most one active run`);
  // Submission order: once a run is still queued, every later run is queued too.
  const firstQueued = statuses.indexOf('queued');
  if (firstQueued >= 0)
    assert.ok(
      statuses.slice(firstQueued).every((s) => s === 'queued'),
      `${ctx}: a later run started before an earlier one`,
    );
  return statuses.every((s) => TERMINAL.includes(s));
}

test(`crash: SIGKILL with several busy sessions keeps per-session FIFO order and one active run per session (${ITERATIONS} iterations)`, async () => {
  await runIterations({ script: SCRIPT }, async (rig) => {
    const sessions = await Promise.all(Array.from({ length: SESSIONS }, () => createSession(rig.url)));
    const order = new Map<string, string[]>();
    // Submit session by session, run by run, so each session's queue order is the submission order.
    await Promise.all(
      sessions.map(async (sid) => {
        const ids: string[] = [];
        for (let k = 0; k < RUNS_PER_SESSION; k++)
          ids.push((await submitRun(rig.url, sid, `job ${k}`)).run_id);
        order.set(sid, ids);
      }),
    );
    // Mid-way: somewhere between the first and the last run of each session.
    await sleep(randomInt(50, DELAY_MS * 2));
    await rig.crashAndRestart();

    // Sample every session frequently while the queues drain after the restart.
    const deadline = Date.now() + 20_000;
    let samples = 0;
    for (;;) {
      const lists = await Promise.all(sessions.map((sid) => sessionRuns(rig.url, sid)));
      samples++;
      const done = sessions.map((sid, i) =>
        checkSample(sid, order.get(sid)!, lists[i]!, `sample ${samples}`),
      );
      if (done.every(Boolean)) break;
      if (Date.now() > deadline)
        assert.fail(`runs did not drain: ${JSON.stringify(lists.map((l) => l.map((r) => r.status)))}`);
      await sleep(15);
    }

    for (const sid of sessions) {
      const ids = order.get(sid)!;
      const listed = await sessionRuns(rig.url, sid);
      assert.equal(listed.length, RUNS_PER_SESSION, `session ${sid}: all runs exist and no extra one`);
      const byId = new Map(listed.map((r) => [r.run_id, r]));
      const runs = ids.map((id) => byId.get(id)!);
      for (const run of runs)
        assertCleanRun(run, await runEvents(rig.url, run.run_id), ['done'], `session ${sid}`);
      for (let k = 1; k < runs.length; k++) {
        const prev = runs[k - 1]!;
        const cur = runs[k]!;
        const ctx = `session ${sid}: run ${k} (${cur.run_id}) vs run ${k - 1} (${prev.run_id})`;
        assert.ok(cur.started_at_ms >= prev.started_at_ms, `${ctx}: started in submission order`);
        assert.ok(
          cur.started_at_ms >= prev.finished_at_ms,
          `${ctx}: started after the previous one finished`,
        );
        assert.ok(cur.finished_at_ms >= prev.finished_at_ms, `${ctx}: finished in submission order`);
      }
    }
    await assertQuiescent(rig.url, 'after restart:');
  });
});
