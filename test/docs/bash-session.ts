// The docs tests that run a page's shell blocks in ONE bash session (so variables and background
// jobs carry over from block to block), with `kheish-daemon` and node on PATH, and then compare
// what each block printed with the block the page shows after it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import { BIN } from '../helpers/daemon.ts';
import type { Block } from './markdown.ts';

export interface BashSessionOptions {
  cwd: string;
  /** The daemon the blocks talk to (KHEISH_DAEMON_URL). */
  daemon: { url: string };
  env?: Record<string, string>;
  /** Rewrites a block before it runs (a port the page hard-codes, …). */
  edit?: (body: string) => string;
  /** Kill the session's background jobs when it ends (a receiver the page starts with `&`). */
  killJobs?: boolean;
  /** More to show when the session fails (daemon logs). */
  onFailure?: () => string;
}

/** Runs `shells` in order under `set -euo pipefail`; returns what each block printed. */
export function runBashSession(shells: readonly Block[], opts: BashSessionOptions): string[] {
  const edit = opts.edit ?? ((s: string) => s);
  const script = [
    'set -euo pipefail',
    ...(opts.killJobs ? ["trap 'kill $(jobs -p) 2>/dev/null || true' EXIT"] : []),
    ...shells.flatMap((b, i) => [edit(b.body), `echo "@@block ${i}@@"`]),
  ].join('\n');
  const run = spawnSync('bash', ['-c', script], {
    cwd: opts.cwd,
    encoding: 'utf8',
    timeout: 120_000,
    env: {
      ...process.env,
      ...opts.env,
      KHEISH_DAEMON_URL: opts.daemon.url,
      PATH: `${dirname(BIN)}:${dirname(process.execPath)}:${process.env.PATH}`,
    },
  });
  const more = opts.onFailure && run.status !== 0 ? `\n${opts.onFailure()}` : '';
  assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}${more}`);
  return run.stdout.split(/@@block \d+@@\n/);
}

export interface ShownOptions {
  /** Normalizes a line (ids, times, spaces) before comparing. */
  norm: (l: string) => string;
  /** Rewrites a shown block before comparing (the port the session used, …). */
  edit?: (body: string) => string;
  /** Compare JSON outputs after `norm` too (ids in them). */
  normJson?: boolean;
  /** A text line may stand anywhere in the output, not only as a whole line. */
  anywhere?: boolean;
  /** Shown blocks that are not outputs (a file the page writes). */
  notOutput?: (shown: Block) => boolean;
}

/**
 * Compares each block's output with the block after it on the page: a text block line by line, a
 * JSON block as a value. Returns how many outputs were compared.
 */
export function checkShownOutputs(
  blocks: readonly Block[],
  shells: readonly Block[],
  outputs: readonly string[],
  opts: ShownOptions,
): number {
  const { norm } = opts;
  let checked = 0;
  shells.forEach((b, i) => {
    const shown = blocks[blocks.indexOf(b) + 1];
    if (!shown || opts.notOutput?.(shown)) return;
    const printed = outputs[i]!;
    const body = opts.edit ? opts.edit(shown.body) : shown.body;
    if (shown.lang === 'text') {
      const lines = printed.trimEnd().split('\n').map(norm);
      const whole = norm(printed);
      for (const want of body.trimEnd().split('\n'))
        assert.ok(
          opts.anywhere ? whole.includes(norm(want)) : lines.includes(norm(want)),
          `${b.where}: ${JSON.stringify(want)} in\n${printed}`,
        );
      checked++;
    } else if (shown.lang === 'json') {
      const value = (s: string) => JSON.parse(opts.normJson ? norm(s) : s);
      assert.deepEqual(value(printed), value(body), b.where);
      checked++;
    }
  });
  return checked;
}
