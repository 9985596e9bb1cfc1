// Crash scenario: SIGKILL the daemon while a background shell task runs. After the restart the
// task is failed (daemon_restarted, recovered_on_boot), its partial output is still readable, the
// command never ran again, and the process tree the dead daemon left behind has been killed.
// The daemon runs without bubblewrap here (a PATH without bwrap): sandboxed commands die with the
// daemon (--die-with-parent), so the unsandboxed case is the one where boot recovery must act.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { tempDir } from '../helpers/daemon.ts';
import { taskProcesses } from '../helpers/task-processes.ts';
import { unsandboxedPath } from '../helpers/unsandboxed-path.ts';
import { api, createSession, ITERATIONS, runIterations, waitFor } from './crash-kit.ts';

const workspace = tempDir('kheish-crash-shell-ws-');
// Only what the launcher script and the commands need: no bwrap, so commands run unsandboxed.
const bin = unsandboxedPath();
const binDir = bin.dir;
after(() => {
  rmSync(workspace, { recursive: true, force: true });
  bin.remove();
});

const COUNT = ITERATIONS + 2;
const command = (k: number) =>
  `echo started >> ran-${k}.log; echo partial-${k}; sleep 60; echo finished >> ran-${k}.log`;
const script = {
  rules: Array.from({ length: COUNT }, (_, k) => ({
    match: `^bg ${k}$`,
    turns: [
      { tool_calls: [{ name: 'bash', arguments: { command: command(k), run_in_background: true } }] },
      { text: `launched ${k}` },
    ],
  })),
};

test(`ops-runtime #42 (shell tasks; the approval half is in approvals.test.ts): crash: SIGKILL during a background shell task → failed (daemon_restarted), output kept, never re-run, tree killed (${ITERATIONS} iterations)`, {
  skip: process.platform !== 'linux',
}, async () => {
  await runIterations(
    { script, args: ['--workspace-root', workspace], env: { PATH: binDir } },
    async (rig, k) => {
      await api(rig.url, 'POST', '/v1/runtime/permission-mode', { mode: 'bypassPermissions' });
      const sid = await createSession(rig.url);
      const run = await api(rig.url, 'POST', `/v1/sessions/${sid}/input`, { content: `bg ${k}` });
      assert.equal(run.status, 200, run.text);
      const [task] = (await api(rig.url, 'GET', `/v1/sessions/${sid}/tasks`)).body;
      assert.equal(task.metadata.sandboxed, false, 'this scenario runs unsandboxed');
      const out = `/v1/sessions/${sid}/tasks/${task.id}/output`;
      await waitFor('the partial output', async () =>
        (await api(rig.url, 'GET', out)).body.output_excerpt?.includes(`partial-${k}`),
      );

      await rig.crashAndRestart();

      const after = (await api(rig.url, 'GET', `${out}?full=true`)).body;
      assert.equal(after.retrieval_status, 'success');
      assert.equal(after.task.status, 'failed');
      const m = after.task.metadata;
      assert.equal(m.terminal_reason, 'daemon_restarted');
      assert.equal(m.recovered_on_boot, true);
      assert.equal(m.exit_code, null);
      assert.equal(m.process_tree_shutdown_matched_target, true, 'the leftover tree was recognised as ours');
      assert.equal(m.process_tree_shutdown_signal_sent, true, 'and signalled');
      assert.equal(m.process_tree_shutdown_confirmed, true);
      assert.equal(after.output_text, `partial-${k}\n`, 'the partial output is readable');
      assert.equal(after.output_total_bytes, after.output_text.length);
      assert.deepEqual(taskProcesses(task.id), [], 'nothing of the task survives the restart');
      assert.equal(
        readFileSync(join(workspace, `ran-${k}.log`), 'utf8'),
        'started\n',
        'ran once, never re-run',
      );
      const again = (await api(rig.url, 'GET', `/v1/sessions/${sid}/tasks`)).body;
      assert.equal(again.length, 1, 'no task was started again');
      const status = (await api(rig.url, 'GET', '/v1/status')).body;
      assert.equal(status.tasks.live_shell_tasks, 0);
    },
  );
});
