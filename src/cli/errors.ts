// Exit codes and error reporting: the CLI contract of ops-runtime §2.2. Scripts branch on these
// numbers, so the mapping lives in one place and is unit-tested.
import { CommanderError } from 'commander';
import {
  DaemonProblemError,
  DaemonSchemaError,
  DaemonTimeoutError,
  DaemonUnreachableError,
  SseFrameTooLargeError,
} from '../sdk/errors.ts';

export const EXIT = {
  ok: 0,
  failure: 1,
  invalidRequest: 2,
  unreachable: 3,
  auth: 4,
  notFound: 5,
  conflict: 6,
  retryable: 7,
  schemaMismatch: 8,
  /** Ctrl-C before the command reached its goal (shell convention 128 + SIGINT). */
  interrupted: 130,
} as const;

/** A mistake in the command line itself (bad flag combination, unreadable input file). */
export class UsageError extends Error {
  readonly hint: string | undefined;
  readonly exitCode: number;

  constructor(message: string, hint?: string, exitCode: number = EXIT.invalidRequest) {
    super(message);
    this.name = 'UsageError';
    this.hint = hint;
    this.exitCode = exitCode;
  }
}

export function exitCodeForStatus(status: number): number {
  if (status === 400 || status === 413 || status === 415 || status === 422) return EXIT.invalidRequest;
  if (status === 401 || status === 403) return EXIT.auth;
  if (status === 404) return EXIT.notFound;
  if (status === 409) return EXIT.conflict;
  if (status === 408 || status === 429 || status === 502 || status === 503 || status === 504)
    return EXIT.retryable;
  return EXIT.failure;
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof DaemonProblemError) return exitCodeForStatus(err.status);
  if (err instanceof DaemonUnreachableError) return EXIT.unreachable;
  if (err instanceof DaemonTimeoutError) return EXIT.retryable;
  if (err instanceof DaemonSchemaError) return EXIT.schemaMismatch;
  if (err instanceof UsageError) return err.exitCode;
  if (err instanceof SseFrameTooLargeError) return EXIT.failure;
  if (err instanceof CommanderError) {
    // `help` and `help <command>` print help as asked (commander.help with exit code 0); a bare
    // command group prints it because a sub-command is missing (exit code 1): a usage error.
    const asked =
      err.code === 'commander.helpDisplayed' ||
      err.code === 'commander.version' ||
      (err.code === 'commander.help' && err.exitCode === 0);
    return asked ? EXIT.ok : EXIT.invalidRequest;
  }
  const status = problemLike(err)?.status;
  return status === undefined ? EXIT.failure : exitCodeForStatus(status);
}

/** Lines for stderr: `error: <code>: <detail>` plus, where the next step is obvious, a hint. */
export function errorLines(err: unknown): string[] {
  if (err instanceof DaemonProblemError) {
    const where = [err.domain ? `domain ${err.domain}` : undefined, `HTTP ${err.status}`]
      .filter(Boolean)
      .join(', ');
    return withHint(`error: ${err.code}: ${err.detail} (${where})`, problemHint(err));
  }
  if (err instanceof DaemonUnreachableError) {
    return withHint(
      `error: daemon_unreachable: ${err.message}`,
      'is the daemon running? start it with `kheish-daemon serve`, or point --base-url / KHEISH_DAEMON_URL at it',
    );
  }
  if (err instanceof DaemonTimeoutError) {
    return withHint(
      `error: timeout: ${err.message}`,
      'retry; `kheish-daemon status` shows whether the daemon is healthy',
    );
  }
  if (err instanceof DaemonSchemaError) {
    return withHint(
      `error: schema_mismatch: ${err.message}`,
      'the CLI and the daemon are probably different versions; upgrade the older one',
    );
  }
  if (err instanceof SseFrameTooLargeError) {
    return withHint(
      `error: sse_frame_too_large: ${err.message}`,
      'read the result with `runs get` / `runs events` instead',
    );
  }
  if (err instanceof UsageError) return withHint(`error: ${err.message}`, err.hint);
  const problem = problemLike(err);
  if (problem) return [`error: ${problem.code}: ${problem.detail}`];
  return [`error: ${err instanceof Error ? err.message : String(err)}`];
}

function withHint(line: string, hint: string | undefined): string[] {
  return hint ? [line, `hint: ${hint}`] : [line];
}

function problemHint(err: DaemonProblemError): string | undefined {
  switch (err.code) {
    case 'session_not_found':
      return 'list sessions with `kheish-daemon sessions list`, or create one with `kheish-daemon sessions create <id>`';
    case 'run_not_found':
      return 'list runs with `kheish-daemon runs list`';
    case 'session_busy':
      return 'queue the message behind the active work with `kheish-daemon runs submit <session_id> <content>`';
    case 'insufficient_access':
      return 'this needs the admin token, not the read-only one';
    case 'idempotency_conflict':
      return 'this idempotency key was already used for a different request; pick a new key';
    case 'daemon_draining':
      return 'the daemon is shutting down; retry once it is back';
    case 'route_not_ready':
      return '`kheish-daemon status` lists the routes and why they are not ready';
  }
  if (err.status === 401) {
    return 'pass --token or set KHEISH_DAEMON_TOKEN (or --token-file / KHEISH_DAEMON_TOKEN_FILE)';
  }
  if (err.status === 429 || err.status === 503) {
    return err.retryAfter !== undefined ? `retry in ${err.retryAfter} s` : 'retry in a moment';
  }
  return undefined;
}

/** Errors shaped like the daemon's own DaemonError (thrown by `serve`), without importing it. */
function problemLike(err: unknown): { status: number; code: string; detail: string } | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const e = err as { status?: unknown; code?: unknown; detail?: unknown };
  if (typeof e.status === 'number' && typeof e.code === 'string' && typeof e.detail === 'string') {
    return { status: e.status, code: e.code, detail: e.detail };
  }
  return undefined;
}
