// The confinement of a stored procedure worktree (decision 537): only a directory under
// <workspace>/.kheish-procedural-worktrees/, lexically and once links are resolved.
import assert from 'node:assert/strict';
import { mkdirSync, realpathSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { confinedWorktree } from '../../src/features/learning-skills/run-root.ts';
import { tempDir } from '../helpers/daemon.ts';

test('learning-skills: a stored worktree path must stay under .kheish-procedural-worktrees/', () => {
  const ws = tempDir('kheish-lsk-root-');
  const base = join(ws, '.kheish-procedural-worktrees');
  mkdirSync(join(base, 'skill', 'run-1'), { recursive: true });
  const ok = confinedWorktree(ws, '.kheish-procedural-worktrees/skill/run-1');
  assert.deepEqual(ok, { path: realpathSync(join(base, 'skill', 'run-1')) });

  for (const bad of [
    '.kheish-procedural-worktrees',
    '.kheish-procedural-worktrees/../src',
    '.kheish-procedural-worktrees/skill/../../..',
    '/etc',
    'src',
  ])
    assert.match((confinedWorktree(ws, bad) as { why: string }).why, /not under/, bad);

  // A worktree swapped for a link out of the workspace is refused.
  const outside = tempDir('kheish-lsk-outside-');
  symlinkSync(outside, join(base, 'skill', 'run-2'));
  assert.match(
    (confinedWorktree(ws, '.kheish-procedural-worktrees/skill/run-2') as any).why,
    /resolves outside/,
  );

  // So is the worktrees directory itself being a link.
  const ws2 = tempDir('kheish-lsk-root2-');
  mkdirSync(join(outside, 'skill', 'run-1'), { recursive: true });
  symlinkSync(outside, join(ws2, '.kheish-procedural-worktrees'));
  assert.match(
    (confinedWorktree(ws2, '.kheish-procedural-worktrees/skill/run-1') as any).why,
    /resolves outside/,
  );

  // A removed worktree is reported missing (the feature makes it again).
  const gone = confinedWorktree(ws, '.kheish-procedural-worktrees/skill/run-3') as any;
  assert.equal(gone.missing, true);
});
