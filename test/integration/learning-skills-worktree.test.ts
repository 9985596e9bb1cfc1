// Where a promoted procedure's child works (decision 537): use_skill prepares
// <workspace>/.kheish-procedural-worktrees/<skill>/<run>-<call>, and the forked child's tools are
// rooted there, not at the daemon's workspace: its bash writes out.txt into the worktree. In a git
// workspace the worktree is a detached checkout of HEAD (the child sees the tracked files). Runs
// on SQLite and, with KHEISH_TEST_STORE=postgres, on a fresh PostgreSQL schema.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { http, startDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';
import { activeProcedure, runTo, WORKTREE_SCRIPT } from '../helpers/promoted-skill.ts';
import { journalPayloads, queryState } from '../helpers/state-query.ts';

async function useProcedure(workspace: string) {
  const d = await startDaemon({
    script: WORKTREE_SCRIPT,
    args: ['--workspace-root', workspace],
    env: { HOME: tempDir('kheish-lsk-wt-home-') },
  });
  try {
    await activeProcedure(d.url);
    const mode = await http(d.url, 'POST', '/v1/runtime/permission-mode', { mode: 'bypassPermissions' });
    assert.equal(mode.status, 200, mode.text);
    const parent = await runTo(d.url, 'wt-parent', 'please use the procedure');
    assert.equal(parent.status, 'completed', JSON.stringify(parent.error));
    const [result] = await journalPayloads(d, parent.run_id, 'tool_result');
    assert.equal(result.is_error, false, result.content);
    const spawn = JSON.parse(result.content).spawn;
    const worktree = spawn.worktree_path as string;
    assert.match(worktree, /\.kheish-procedural-worktrees\/learning_wt\/run/);
    const child = await waitForRun(d.url, spawn.launch_run_id, undefined, 30_000);
    assert.equal(child.status, 'completed', JSON.stringify(child.error));
    const [bash] = await journalPayloads(d, child.run_id, 'tool_result');
    assert.equal(bash.is_error, false, bash.content);
    const rows = await queryState(d, 'select * from learning_skill_worktrees');
    assert.equal(rows.length, 1);
    assert.equal(rows[0].parent_run_id, parent.run_id);
    assert.equal(rows[0].skill_name, 'learning:wt');
    assert.ok(rows[0].worktree_path.startsWith('.kheish-procedural-worktrees/'), rows[0].worktree_path);
    return { worktree, bash: JSON.parse(bash.content), kind: rows[0].kind as string };
  } finally {
    await d.kill();
    await d.cleanup();
  }
}

test('learning-skills: a promoted procedure’s child runs its tools in its worktree, not the workspace', async () => {
  const workspace = tempDir('kheish-lsk-wt-ws-');
  const { worktree, bash, kind } = await useProcedure(workspace);
  assert.equal(kind, 'directory');
  assert.equal(readFileSync(join(worktree, 'out.txt'), 'utf8'), 'from-child\n');
  assert.ok(!existsSync(join(workspace, 'out.txt')), 'nothing written at the workspace root');
  assert.ok(JSON.stringify(bash).includes(realpathSync(worktree)), JSON.stringify(bash));
});

test('learning-skills: in a git workspace the child works in a detached worktree of HEAD', async () => {
  const workspace = tempDir('kheish-lsk-wt-git-');
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', workspace, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args]);
  git('init', '-q');
  writeFileSync(join(workspace, 'tracked.txt'), 'tracked-content\n');
  git('add', 'tracked.txt');
  git('commit', '-q', '-m', 'init');
  const { worktree, bash, kind } = await useProcedure(workspace);
  assert.equal(kind, 'git');
  assert.ok(existsSync(join(worktree, '.git')), 'a git worktree checkout');
  assert.equal(readFileSync(join(worktree, 'out.txt'), 'utf8'), 'from-child\n');
  assert.ok(JSON.stringify(bash).includes('tracked-content'), 'the child read the checkout');
  assert.ok(!existsSync(join(workspace, 'out.txt')), 'nothing written at the workspace root');
  const status = execFileSync('git', ['-C', worktree, 'status', '--porcelain']).toString();
  assert.match(status, /\?\? out\.txt/);
  assert.match(
    execFileSync('git', ['-C', worktree, 'rev-parse', '--abbrev-ref', 'HEAD']).toString(),
    /^HEAD/,
  );
});

test('learning-skills: a worktree removed while the child waits is made again; one swapped for a link fails the child', async () => {
  const workspace = tempDir('kheish-lsk-wt-swap-');
  const outside = tempDir('kheish-lsk-wt-outside-');
  const d = await startDaemon({
    script: WORKTREE_SCRIPT,
    args: ['--workspace-root', workspace],
    env: { HOME: tempDir('kheish-lsk-wt-home-') },
  });
  try {
    await activeProcedure(d.url);
    /** Uses the procedure; returns the child waiting for its bash approval (default mode asks). */
    const waitingChild = async (session: string) => {
      const parent = await runTo(d.url, session, 'please use the procedure');
      assert.equal(parent.status, 'completed', JSON.stringify(parent.error));
      const [result] = await journalPayloads(d, parent.run_id, 'tool_result');
      const spawn = JSON.parse(result.content).spawn;
      let waiting: any;
      for (let i = 0; i < 300 && waiting?.status !== 'waiting_for_approval'; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, 100));
        waiting = (await http(d.url, 'GET', `/v1/runs/${spawn.launch_run_id}`)).body;
      }
      assert.equal(waiting.status, 'waiting_for_approval');
      const approve = () =>
        http(d.url, 'POST', `/v1/runs/${waiting.run_id}/approvals`, {
          resolutions: waiting.pending_approval_ids.map((id: string) => ({
            request_id: id,
            behavior: 'allow',
          })),
        });
      return { worktree: spawn.worktree_path as string, runId: waiting.run_id as string, approve };
    };

    const removed = await waitingChild('wt-removed');
    rmSync(removed.worktree, { recursive: true });
    assert.ok((await removed.approve()).status < 300);
    const done = await waitForRun(d.url, removed.runId, undefined, 30_000);
    assert.equal(done.status, 'completed', JSON.stringify(done.error));
    assert.equal(readFileSync(join(removed.worktree, 'out.txt'), 'utf8'), 'from-child\n');

    const swapped = await waitingChild('wt-swapped');
    rmSync(swapped.worktree, { recursive: true });
    symlinkSync(outside, swapped.worktree);
    assert.ok((await swapped.approve()).status < 300);
    const failed = await waitForRun(d.url, swapped.runId, undefined, 30_000);
    assert.equal(failed.status, 'failed');
    assert.match(JSON.stringify(failed.error), /cannot be used: .* resolves outside/);
    assert.ok(!existsSync(join(outside, 'out.txt')), 'nothing written through the link');
    assert.ok(!existsSync(join(workspace, 'out.txt')), 'no fall back to the workspace root');
  } finally {
    await d.kill();
    await d.cleanup();
  }
});
