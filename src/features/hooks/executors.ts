// The executors that leave the daemon (ops-runtime §7.2, §7.5): `command` (a shell command in its
// own process group, the invocation on stdin, the outcome on stdout, the whole group killed when
// the budget runs out) and `http` (POST through the web tools' SSRF-safe client: vetted and pinned
// addresses, no proxy, no redirect, capped body, one deadline), plus in-process `callback`s.
import { spawn } from 'node:child_process';
import type { HookEvent } from '../../engine/hook-port.ts';
import { safeFetch } from '../../tools/web/safe-fetch.ts';
import { WebPolicyError } from '../../tools/web/target-policy.ts';
import { HookFailure, type HookOutcome, parseOutcome } from './outcome.ts';
import type { HookExecutor } from './settings-schema.ts';

/** Response and stdout cap (api-core §11.3: 128 KiB). */
export const MAX_OUTCOME_BYTES = 128 * 1024;

/** What a hook is told (the typed form; command and http get it as JSON with the wire fields). */
export interface HookInvocation {
  event: HookEvent;
  subject?: string;
  session_id?: string;
  run_id?: string;
  agent_id?: string;
  payload: Record<string, unknown>;
}

/** The wire contract 1 payload: the invocation with its version and stable key. */
export interface WireInvocation extends HookInvocation {
  contract_version: 1;
  invocation_key: string;
}

export type HookCallback = (
  invocation: HookInvocation & { invocation_key: string },
  signal: AbortSignal,
) => Promise<HookOutcome | undefined> | HookOutcome | undefined;

type Command = Extract<HookExecutor, { type: 'command' }>;
type Http = Extract<HookExecutor, { type: 'http' }>;

/** Exit status 2 blocks with stderr as the reason (the convention of shell hook scripts). */
const BLOCK_EXIT = 2;

export function runCommand(ex: Command, wire: WireInvocation, signal: AbortSignal): Promise<HookOutcome> {
  return new Promise((resolve, reject) => {
    // Only what a shell needs: the daemon's own environment (tokens, keys) is not the hook's.
    const env: Record<string, string> = {
      KHEISH_HOOK_EVENT: wire.event,
      KHEISH_HOOK_INVOCATION_KEY: wire.invocation_key,
    };
    for (const k of ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'TZ'])
      if (process.env[k]) env[k] = process.env[k]!;
    const child = spawn(ex.shell ?? '/bin/sh', ['-c', ex.command], {
      detached: true, // its own process group: the whole group can be killed
      stdio: ['pipe', 'pipe', 'pipe'],
      env,
    });
    const killGroup = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    let out = '';
    let err = '';
    let overflow = false;
    child.stdout!.on('data', (d: Buffer) => {
      if (out.length + d.length > MAX_OUTCOME_BYTES) overflow = true;
      else out += d.toString('utf8');
    });
    child.stderr!.on('data', (d: Buffer) => {
      if (err.length < 4096) err += d.toString('utf8');
    });
    child.stdin!.on('error', () => undefined); // a hook that ignores its stdin
    child.stdin!.end(JSON.stringify(wire));
    let code: number | null = null;
    const onAbort = () => killGroup();
    signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => {
      signal.removeEventListener('abort', onAbort);
      reject(new HookFailure(`the command could not start: ${e.message}`, true));
    });
    // Descendants never outlive their hook: the group goes when the command exits.
    child.on('exit', (c) => {
      code = c;
      killGroup();
    });
    child.on('close', () => {
      signal.removeEventListener('abort', onAbort);
      if (signal.aborted) return reject(new HookFailure('the command was stopped at the hook timeout', true));
      if (overflow)
        return reject(new HookFailure(`the command wrote more than ${MAX_OUTCOME_BYTES} bytes`, false));
      if (code === BLOCK_EXIT)
        return resolve({ decision: 'block', stop_reason: err.trim().slice(0, 500) || 'blocked by hook' });
      if (code !== 0) return reject(new HookFailure(`the command exited with status ${code}`, true));
      try {
        resolve(parseOutcome(out));
      } catch (e) {
        reject(e);
      }
    });
  });
}

/** Test-only: exact `ip:port` sockets an http hook may reach although they are private. */
export interface HttpHookOptions {
  allowPrivateTargetsForTests?: string[];
}

/** Longest Retry-After honoured (ms); the hook's own budget bounds it further. */
export const MAX_RETRY_AFTER_MS = 5_000;

export async function postHttp(
  ex: Http,
  wire: WireInvocation,
  opts: HttpHookOptions,
  budgetMs: number,
  signal: AbortSignal,
): Promise<HookOutcome> {
  let res: Awaited<ReturnType<typeof safeFetch>>;
  try {
    res = await safeFetch(
      ex.url,
      {
        method: 'POST',
        body: Buffer.from(JSON.stringify(wire)),
        headers: {
          ...ex.headers,
          'content-type': 'application/json',
          'idempotency-key': wire.invocation_key,
        },
        accept: 'application/json',
        redirects: 'refuse',
        timeoutMs: Math.max(1, budgetMs),
        maxBodyBytes: MAX_OUTCOME_BYTES,
        allowPrivateTargetsForTests: opts.allowPrivateTargetsForTests,
        userAgent: 'kheish-daemon/0.1 (hooks)',
      },
      signal,
    );
  } catch (e) {
    if (e instanceof WebPolicyError) {
      const retryable = ['timeout', 'network_error', 'dns_failure'].includes(e.code);
      throw new HookFailure(
        `http hook ${e.code}: ${retryable ? e.message : e.code.replaceAll('_', ' ')}`,
        retryable,
      );
    }
    throw new HookFailure(`http hook failed: ${(e as Error).message}`, true);
  }
  if (res.truncated) throw new HookFailure(`the response is larger than ${MAX_OUTCOME_BYTES} bytes`, false);
  const status = res.status;
  if (status >= 200 && status < 300) return parseOutcome(res.body.toString('utf8'));
  const retryable = status === 408 || status === 429 || status >= 500;
  throw new HookFailure(
    `http hook answered ${status}`,
    retryable,
    retryable ? retryAfter(res.headers['retry-after']) : null,
  );
}

/** Seconds or an HTTP date, capped. */
function retryAfter(value: string | undefined): number | null {
  if (!value) return null;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(ms) ? Math.min(Math.max(0, ms), MAX_RETRY_AFTER_MS) : null;
}

/** Where a target may be shown: scheme, host and port only (never the path, query or headers). */
export function safeTarget(ex: HookExecutor): string {
  switch (ex.type) {
    case 'http':
      try {
        const u = new URL(ex.url);
        return `${u.protocol}//${u.host}`;
      } catch {
        return 'http:(invalid url)';
      }
    case 'callback':
      return `callback:${ex.name}`;
    case 'command':
      return 'command';
    default:
      return ex.type;
  }
}
