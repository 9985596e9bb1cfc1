// Runs one command as the leader of its own process group so cancellation and timeouts reach
// everything it started (pipelines, `&` jobs, grandchildren), not just the direct child.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { CapturedText } from './capped-output.ts';
import { CappedOutput } from './capped-output.ts';

export interface GroupRunOptions {
  file: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Time between SIGTERM and SIGKILL. */
  killGraceMs: number;
  maxOutputBytes: number;
  signal: AbortSignal;
  /** Written to the command's stdin, then closed (hooks get their invocation this way); none by default. */
  stdin?: string;
}

export interface GroupRunResult {
  exit_code: number | null;
  signal: string | null;
  timed_out: boolean;
  aborted: boolean;
  stdout: CapturedText;
  stderr: CapturedText;
  duration_ms: number;
  spawn_error?: string;
}

const POLL_MS = 25;
// A process that escaped the group (setsid) can keep our pipes open forever; stop waiting.
const PIPE_DRAIN_MS = 1000;

export function runInProcessGroup(o: GroupRunOptions): Promise<GroupRunResult> {
  const started = performance.now();
  const out = new CappedOutput(o.maxOutputBytes);
  const err = new CappedOutput(o.maxOutputBytes);
  return new Promise((resolve) => {
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(o.file, o.args, {
        cwd: o.cwd,
        env: o.env,
        detached: true,
        stdio: [o.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      });
    } catch (e) {
      resolve(failed(e as Error, started));
      return;
    }
    if (o.stdin !== undefined) {
      child.stdin!.on('error', () => undefined); // a command that never reads its stdin
      child.stdin!.end(o.stdin);
    }
    let timedOut = false;
    let aborted = false;
    let reaping: Promise<void> | undefined;
    const pgid = child.pid;
    const reap = (): Promise<void> => {
      reaping ??= pgid === undefined ? Promise.resolve() : killGroup(pgid, o.killGraceMs);
      return reaping;
    };

    child.stdout!.on('data', (c: Buffer) => out.push(c));
    child.stderr!.on('data', (c: Buffer) => err.push(c));
    const streamsClosed = Promise.all([closed(child.stdout!), closed(child.stderr!)]);

    const timer = setTimeout(() => {
      timedOut = true;
      void reap();
    }, o.timeoutMs);
    const onAbort = (): void => {
      aborted = true;
      void reap();
    };
    if (o.signal.aborted) onAbort();
    else o.signal.addEventListener('abort', onAbort, { once: true });

    child.once('error', (e) => {
      clearTimeout(timer);
      o.signal.removeEventListener('abort', onAbort);
      resolve(failed(e, started));
    });
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      o.signal.removeEventListener('abort', onAbort);
      // Leftover background jobs would outlive the call and hold the pipes open.
      void reap()
        .then(() => withTimeout(streamsClosed, PIPE_DRAIN_MS))
        .then(() => {
          child.stdout!.destroy();
          child.stderr!.destroy();
          resolve({
            exit_code: code,
            signal: sig,
            timed_out: timedOut,
            aborted,
            stdout: out.result('stdout'),
            stderr: err.result('stderr'),
            duration_ms: Math.round(performance.now() - started),
          });
        });
    });
  });
}

/** SIGTERM the group, give it the grace period, then SIGKILL whatever is left. */
export async function killGroup(pgid: number, graceMs: number): Promise<void> {
  if (!signalGroup(pgid, 'SIGTERM')) return;
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await sleep(POLL_MS);
    if (!groupExists(pgid)) return;
  }
  signalGroup(pgid, 'SIGKILL');
}

export function signalGroup(pgid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, sig);
    return true;
  } catch {
    return false; // ESRCH: the group is already empty
  }
}

export function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  // kill(0) also counts zombies (orphans whose new parent has not reaped them yet, common in
  // containers); they are already dead and must not stretch every kill to the full grace period.
  return hasLiveMember(pgid);
}

function hasLiveMember(pgid: number): boolean {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return true; // no procfs: trust kill(0)
  }
  for (const entry of entries) {
    if (entry.charCodeAt(0) > 57) continue; // not a pid directory
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      // Fields after the parenthesised command name: state, ppid, pgrp, ...
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') return true;
    } catch {
      // exited while scanning
    }
  }
  return false;
}

export function closed(stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve) => {
    stream.once('close', () => resolve());
    stream.once('error', () => resolve());
  });
}

export function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    void p.then(() => {
      clearTimeout(t);
      resolve();
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function failed(e: Error, started: number): GroupRunResult {
  const empty = { text: '', truncated: false, total_bytes: 0 };
  return {
    exit_code: null,
    signal: null,
    timed_out: false,
    aborted: false,
    stdout: empty,
    stderr: empty,
    duration_ms: Math.round(performance.now() - started),
    spawn_error: e.message,
  };
}
