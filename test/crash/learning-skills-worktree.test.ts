// Crash scenario: a promoted procedure's child is rooted in its worktree (decision 537), and stays
// rooted there across restarts. Each iteration uses the procedure from a new parent run; the
// child's bash asks for approval (default permission mode), the daemon is SIGKILLed during that
// wait, restarted, the call approved, SIGKILLed again a few ms later (before, during or after the
// call) and restarted. The resumed child still writes into its worktree, never the workspace root.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startDaemon, type TestDaemon, tempDir } from '../helpers/daemon.ts';
import { activeProcedure, WORKTREE_SCRIPT } from '../helpers/promoted-skill.ts';
import { journalPayloads } from '../helpers/state-query.ts';
import { api, createSession, getRun, ITERATIONS, randomInt, sleep, submitRun, waitFor } from './crash-kit.ts';

const settledOrAsking = ['completed', 'failed', 'cancelled', 'interrupted', 'waiting_for_approval'];

/** Approves what the child asks (its bash call, or its outcome-unknown question) until it ends. */
async function settle(url: string, runId: string): Promise<any> {
  for (let round = 0; round < 4; round++) {
    const run = await waitFor('the child to settle', async () => {
      const r = await getRun(url, runId);
      return settledOrAsking.includes(r.status) ? r : undefined;
    });
    if (run.status !== 'waiting_for_approval') return run;
    // Running `echo > out.txt` again is harmless: an unknown outcome is simply allowed.
    await api(url, 'POST', `/v1/runs/${runId}/approvals`, {
      resolutions: run.pending_approval_ids.map((id: string) => ({ request_id: id, behavior: 'allow' })),
    });
  }
  throw new Error('the child did not settle');
}

test(`crash: a promoted procedure's child resumed after SIGKILL still works in its worktree (${ITERATIONS} iterations)`, async () => {
  const workspace = tempDir('kheish-lsk-wt-crash-ws-');
  let d: TestDaemon = await startDaemon({
    script: WORKTREE_SCRIPT,
    args: ['--workspace-root', workspace],
    env: { HOME: tempDir('kheish-lsk-wt-crash-home-') },
  });
  try {
    await activeProcedure(d.url);
    for (let i = 0; i < ITERATIONS; i++) {
      const sid = await createSession(d.url);
      const parent = await submitRun(d.url, sid, 'please use the procedure');
      const done = await waitFor('the parent to finish', async () => {
        const r = await getRun(d.url, parent.run_id);
        return ['completed', 'failed'].includes(r.status) ? r : undefined;
      });
      assert.equal(done.status, 'completed', JSON.stringify(done.error));
      const [result] = await journalPayloads(d, parent.run_id, 'tool_result');
      const spawn = JSON.parse(result.content).spawn;
      const worktree = spawn.worktree_path as string;
      const waiting = await waitFor('the child to ask for its bash call', async () => {
        const r = await getRun(d.url, spawn.launch_run_id);
        return r.status === 'waiting_for_approval' ? r : undefined;
      });
      assert.equal(waiting.pending_approvals[0].tool_name, 'bash');
      assert.ok(!existsSync(join(worktree, 'out.txt')), 'nothing ran before the approval');

      await d.kill();
      d = await d.restart();
      const after = await getRun(d.url, spawn.launch_run_id);
      assert.equal(after.status, 'waiting_for_approval', 'the wait survives the crash');
      assert.deepEqual(after.pending_approval_ids, waiting.pending_approval_ids);
      const approved = await api(d.url, 'POST', `/v1/runs/${spawn.launch_run_id}/approvals`, {
        resolutions: after.pending_approval_ids.map((id: string) => ({ request_id: id, behavior: 'allow' })),
      });
      assert.ok(approved.status < 300, JSON.stringify(approved.body));
      await sleep(randomInt(0, 60));
      await d.kill();
      d = await d.restart();

      const child = await settle(d.url, spawn.launch_run_id);
      assert.equal(child.status, 'completed', JSON.stringify(child.error));
      assert.equal(readFileSync(join(worktree, 'out.txt'), 'utf8'), 'from-child\n');
      assert.ok(!existsSync(join(workspace, 'out.txt')), `iteration ${i}: nothing at the workspace root`);
      const results = await journalPayloads(d, spawn.launch_run_id, 'tool_result');
      const ran = results.filter((r) => !r.is_error);
      assert.ok(ran.length >= 1, JSON.stringify(results));
      for (const r of ran) assert.ok(r.content.includes(worktree.split('/').at(-1)), r.content);
    }
  } finally {
    await d.kill();
    await d.cleanup();
  }
});
