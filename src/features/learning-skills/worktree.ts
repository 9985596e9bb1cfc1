// The directory a promoted procedure's child works in (concepts §4.10):
// <workspace>/.kheish-procedural-worktrees/<skill name>/<run id>-<tool call id>. In a git work
// tree it is a detached `git worktree` of HEAD; elsewhere (or when git refuses) an empty
// directory (decision 528). Made once per call: a use_skill run again after a crash reuses it.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const WORKTREES_DIR = '.kheish-procedural-worktrees';

/** A path segment from an id: anything outside `[A-Za-z0-9_-]` becomes `_`. */
const segment = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 120) || '_';

export function worktreePathOf(workspace: string, skill: string, runId: string, toolCallId: string): string {
  return join(workspace, WORKTREES_DIR, segment(skill), `${segment(runId)}-${segment(toolCallId)}`);
}

async function isGitTree(dir: string, signal: AbortSignal): Promise<boolean> {
  try {
    const { stdout } = await run('git', ['-C', dir, 'rev-parse', '--verify', '--quiet', 'HEAD'], {
      signal,
      timeout: 10_000,
    });
    return stdout.trim().length > 0;
  } catch {
    return false;
  }
}

export async function ensureWorktree(
  workspace: string,
  path: string,
  signal: AbortSignal,
): Promise<{ path: string; kind: 'git' | 'directory' }> {
  if (existsSync(path)) return { path, kind: existsSync(join(path, '.git')) ? 'git' : 'directory' };
  mkdirSync(join(path, '..'), { recursive: true });
  if (await isGitTree(workspace, signal)) {
    try {
      await run('git', ['-C', workspace, 'worktree', 'add', '--detach', path, 'HEAD'], {
        signal,
        timeout: 60_000,
      });
      return { path, kind: 'git' };
    } catch {
      // A workspace git cannot add a worktree to (locked, bare, odd state): a plain directory.
    }
  }
  mkdirSync(path, { recursive: true });
  return { path, kind: 'directory' };
}
