// The CLI binary run as a user would, against a test daemon (KHEISH_DAEMON_URL).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { BIN } from './daemon.ts';

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  /** More environment for the process. */
  env?: Record<string, string>;
}

/** Runs `kheish-daemon <args>` against `d`; the exit status is the caller's to check. */
export function runCli(d: { url: string }, args: string[], opts: CliOptions = {}): CliResult {
  const out = spawnSync(BIN, args, {
    cwd: opts.cwd,
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, ...opts.env, KHEISH_DAEMON_URL: d.url },
  });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

/** Runs `kheish-daemon --output json <args>` against `d`, asserts exit 0, and parses what it printed. */
export function cliJson(d: { url: string }, args: string[], opts: CliOptions = {}): any {
  const out = runCli(d, ['--output', 'json', ...args], opts);
  assert.equal(out.status, 0, `${args.join(' ')}: ${out.stderr}`);
  return JSON.parse(out.stdout);
}
