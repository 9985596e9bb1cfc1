// A PATH holding only what the bash tool's launcher and simple commands need, and no `bwrap`: the
// daemon then runs commands unsandboxed. Sandboxed commands die with the daemon (--die-with-parent),
// so tests of what happens to a task tree a dead daemon left behind need this.
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { findOnPath } from '../../src/tools/shell/sandbox.ts';
import { tempDir } from './daemon.ts';

export function unsandboxedPath(): { dir: string; remove(): void } {
  const dir = tempDir('kheish-unsandboxed-bin-');
  mkdirSync(dir, { recursive: true });
  for (const tool of ['sh', 'bash', 'sleep', 'dirname', 'readlink', 'cat']) {
    const real = findOnPath(tool);
    if (real) symlinkSync(real, join(dir, tool));
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
