// Following a stream for longer than one connection: after a drop, reconnect with the last seen
// event id as cursor (the daemon replays what was missed from its durable log), with backoff, until
// the consumer stops or the signal aborts. Shared by the SDK's watch() and the CLI's followers.
import { DaemonProblemError, DaemonTimeoutError, DaemonUnreachableError } from './errors.ts';
import type { SseFrame } from './types.ts';

export type Verdict = 'stop' | undefined;

export interface OpenArgs {
  cursor: string | undefined;
  signal: AbortSignal;
  onOpen: () => Promise<void>;
}

export interface ReconnectInfo {
  /** Consecutive failed connections so far (1 on the first reconnect). */
  attempt: number;
  delayMs: number;
  /** Why the previous connection ended; undefined when the daemon closed it cleanly. */
  error: unknown;
}

export interface ResumeOptions {
  open(args: OpenArgs): AsyncIterable<SseFrame>;
  /** Replay after this id on the first connection (later ones use the last id seen). */
  cursor?: string;
  /** Aborting it ends the stream quietly. */
  signal?: AbortSignal;
  /** After each successful connect, before frames are read; 'stop' ends the stream. */
  onOpen?(): Promise<Verdict>;
  /** After a connection ended or dropped, before reconnecting; 'stop' ends the stream. */
  onDrop?(): Promise<Verdict>;
  /** Before each reconnect wait. */
  onReconnect?(info: ReconnectInfo): void;
  /** Consecutive failed reconnects tolerated before giving up (default 8). */
  maxRetries?: number;
  backoffMs?: (attempt: number) => number;
}

/** Transport trouble worth a reconnect; anything else (404, 401, bad frame) is final. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof DaemonUnreachableError || err instanceof DaemonTimeoutError) return true;
  return err instanceof DaemonProblemError && [429, 502, 503, 504].includes(err.status);
}

const defaultBackoff = (attempt: number) => Math.min(5000, 500 * 2 ** (attempt - 1));

/**
 * Yields the frames of one logical stream across reconnects, each data frame once (the daemon
 * replays from the cursor, so nothing between a drop and the reconnect is lost). Throws at once
 * when the first connection fails, or when a failure is not retryable.
 */
export async function* resumeStream(opts: ResumeOptions): AsyncGenerator<SseFrame, void, undefined> {
  const signal = opts.signal ?? new AbortController().signal;
  const maxRetries = opts.maxRetries ?? 8;
  const backoff = opts.backoffMs ?? defaultBackoff;
  let cursor = opts.cursor;
  let failures = 0;
  let connected = false;
  while (!signal.aborted) {
    const attempt = new AbortController();
    const link = () => attempt.abort();
    signal.addEventListener('abort', link, { once: true });
    let stop = false;
    let lastError: unknown;
    try {
      const onOpen = async () => {
        connected = true;
        failures = 0;
        if ((await opts.onOpen?.()) === 'stop') {
          stop = true;
          attempt.abort();
        }
      };
      for await (const frame of opts.open({ cursor, signal: attempt.signal, onOpen })) {
        if (frame.id !== undefined) cursor = frame.id;
        yield frame;
      }
    } catch (err) {
      // Before the first successful connect, fail fast: the caller wants to know now.
      if (!connected || !isRetryable(err)) throw err;
      lastError = err;
    } finally {
      signal.removeEventListener('abort', link);
      attempt.abort();
    }
    if (stop || signal.aborted) return;
    try {
      if ((await opts.onDrop?.()) === 'stop') return;
    } catch (err) {
      if (!isRetryable(err)) throw err;
      lastError = err;
    }
    failures++;
    if (failures > maxRetries)
      throw lastError ?? new DaemonUnreachableError('the event stream', undefined, 'gave up on');
    const delayMs = backoff(failures);
    opts.onReconnect?.({ attempt: failures, delayMs, error: lastError });
    await sleep(delayMs, signal);
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
