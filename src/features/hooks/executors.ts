// The executors that leave the daemon (ops-runtime §7.2, §7.5): `command` (a shell command in its
// own process group, the invocation on stdin, the outcome on stdout, the whole group killed when
// the budget runs out) and `http` (POST through the web tools' SSRF-safe client: vetted and pinned
// addresses, no proxy, no redirect, capped body, one deadline), plus in-process `callback`s.
import type { HookEvent } from '../../engine/hook-port.ts';
import { outgoingTraceparent } from '../../telemetry/tracing.ts';
import { runInProcessGroup } from '../../tools/shell/process-group.ts';
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

export async function runCommand(
  ex: Command,
  wire: WireInvocation,
  cwd: string,
  budgetMs: number,
  signal: AbortSignal,
): Promise<HookOutcome> {
  // Only what a shell needs: the daemon's own environment (tokens, keys) is not the hook's.
  const env: Record<string, string> = {
    KHEISH_HOOK_EVENT: wire.event,
    KHEISH_HOOK_INVOCATION_KEY: wire.invocation_key,
  };
  // The OpenTelemetry convention for context in the environment, when tracing is on.
  const traceparent = outgoingTraceparent();
  if (traceparent) env.TRACEPARENT = traceparent;
  for (const k of ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'TZ'])
    if (process.env[k]) env[k] = process.env[k]!;
  // Its own process group: at the budget (or when the command exits) the whole group goes.
  const r = await runInProcessGroup({
    file: ex.shell ?? '/bin/sh',
    args: ['-c', ex.command],
    cwd,
    env,
    timeoutMs: Math.max(1, budgetMs),
    killGraceMs: KILL_GRACE_MS,
    maxOutputBytes: MAX_OUTCOME_BYTES,
    signal,
    stdin: JSON.stringify(wire),
  });
  if (r.spawn_error) throw new HookFailure(`the command could not start: ${r.spawn_error}`, true);
  if (r.timed_out || r.aborted)
    throw new HookFailure(`the command was stopped at the ${budgetMs} ms budget`, true);
  if (r.stdout.truncated)
    throw new HookFailure(`the command wrote more than ${MAX_OUTCOME_BYTES} bytes`, false);
  if (r.exit_code === BLOCK_EXIT)
    return { decision: 'block', stop_reason: r.stderr.text.trim().slice(0, 500) || 'blocked by hook' };
  if (r.exit_code !== 0)
    throw new HookFailure(`the command exited with ${r.exit_code ?? `signal ${r.signal}`}`, true);
  return parseOutcome(r.stdout.text);
}

/** Between SIGTERM and SIGKILL of a command hook's group at its budget. */
const KILL_GRACE_MS = 200;

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
  const traceparent = outgoingTraceparent();
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
          ...(traceparent ? { traceparent } : {}),
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
