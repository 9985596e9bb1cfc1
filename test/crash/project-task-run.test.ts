// Crash scenario (issue 17): the daemon dies while a project task's run is running (in its model
// call) and a second task's run waits queued behind it in the same session. After the restart
// each task's status equals its run's at every look, and once the runs finish both tasks are
// completed, each by exactly one durable "task followed run" change (never applied twice).
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
  randomInt,
  runEvents,
  runIterations,
  sleep,
  waitFor,
  waitTerminal,
} from './crash-kit.ts';

const DELAY_MS = 450;
const SCRIPT = { default: { turns: [{ delay_ms: DELAY_MS, text: 'task answer' }] } };
const TASK_OF_RUN: Record<string, string> = {
  queued: 'pending',
  running: 'in_progress',
  completed: 'completed',
};

async function ok(url: string, method: string, path: string, body?: unknown, status = 200) {
  const res = await api(url, method, path, body);
  assert.equal(res.status, status, `${method} ${path}: ${res.text}`);
  return res.body;
}

test(`crash: SIGKILL while a project task's run is running; after restart the task follows its run to completed, once (${ITERATIONS} iterations)`, async (t) => {
  const aim = new KillAim();
  await runIterations({ script: SCRIPT }, async (rig, index) => {
    const sid = await createSession(rig.url);
    const pid = `crash-${index}`;
    await ok(
      rig.url,
      'POST',
      '/v1/projects',
      {
        project_id: pid,
        display_name: 'Crash',
        members: [{ member_id: 'worker', member_kind: 'session', display_name: 'Worker', session_id: sid }],
      },
      201,
    );
    for (const id of ['first', 'second'])
      await ok(
        rig.url,
        'POST',
        `/v1/projects/${pid}/tasks`,
        { project_task_id: id, title: `Task ${id}`, assignment: { assignee_member_id: 'worker' } },
        201,
      );
    const first = await ok(rig.url, 'POST', `/v1/projects/${pid}/tasks/first/start`, {}, 202);
    const second = await ok(rig.url, 'POST', `/v1/projects/${pid}/tasks/second/start`, {}, 202);
    assert.equal(second.status, 'queued');
    const running = await waitFor('the first run to be running', async () => {
      const r = await getRun(rig.url, first.run_id);
      return r.status === 'running' ? r : undefined;
    });
    await sleep(Math.max(0, running.started_at_ms + randomInt(50, DELAY_MS - 150) - Date.now()));
    const before = await getRun(rig.url, first.run_id);
    aim.record(before.status === 'running' && !before.outputs?.length, `run was ${before.status}`);
    await rig.crashAndRestart();

    // Right after the restart: each task's status is its run's (read task, run, task again so a
    // change in between cannot make a false mismatch).
    for (const [tid, runId] of [
      ['first', first.run_id],
      ['second', second.run_id],
    ]) {
      const t1 = await ok(rig.url, 'GET', `/v1/projects/${pid}/tasks/${tid}`);
      const run = await getRun(rig.url, runId);
      const t2 = await ok(rig.url, 'GET', `/v1/projects/${pid}/tasks/${tid}`);
      if (t1.status === t2.status)
        assert.equal(
          t1.status,
          TASK_OF_RUN[run.status],
          `task ${tid} is ${t1.status} while its run is ${run.status}`,
        );
    }

    const runs = await waitTerminal(rig.url, [first.run_id, second.run_id]);
    for (const run of runs) assertCleanRun(run, await runEvents(rig.url, run.run_id), ['task answer']);
    for (const tid of ['first', 'second']) {
      const task = await ok(rig.url, 'GET', `/v1/projects/${pid}/tasks/${tid}`);
      assert.equal(task.status, 'completed', `task ${tid}`);
      assert.equal(task.output, 'task answer');
    }
    const events = await ok(rig.url, 'GET', `/v1/projects/${pid}/events?limit=1000`);
    for (const tid of ['first', 'second']) {
      const completions = events.filter(
        (e: any) =>
          e.kind === 'task_followed_run' && e.project_task_id === tid && e.data.task.status === 'completed',
      );
      assert.equal(completions.length, 1, `task ${tid} completed exactly once`);
    }
    await assertQuiescent(rig.url, 'after restart:');
  });
  t.diagnostic(aim.assertMostlyHit('the model call'));
});
