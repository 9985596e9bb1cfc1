// Following a stream for longer than one connection: reconnect after a drop with the last seen
// event id as cursor (the daemon replays what was missed), with backoff, until told to stop.
import { DaemonProblemError, DaemonTimeoutError, DaemonUnreachableError } from '../sdk/errors.ts';
import type { SseFrame } from '../sdk/types.ts';

export type Verdict = 'stop' | undefined;

export interface OpenArgs {
  cursor: string | undefined;
  signal: AbortSignal;
  onOpen: () => Promise<void>;
}

export interface FollowOptions {
  open(args: OpenArgs): AsyncIterable<SseFrame>;
  /** Replay from here on the first connection (later ones use the last id seen). */
  cursor?: string;
  /** Aborting it ends the follow quietly (Ctrl-C). */
  signal: AbortSignal;
  onFrame(frame: SseFrame): Verdict;
  /** After each successful connect, before frames are read. */
  onOpen?(): Promise<Verdict>;
  /** After a connection ended or dropped, before reconnecting. */
  onDrop?(): Promise<Verdict>;
  /** Where to tell the user about reconnects (stderr). */
  note(line: string): void;
  /** Consecutive failed reconnects tolerated before giving up. */
  maxRetries?: number;
  backoffMs?: (attempt: number) => number;
}

export type FollowEnd = 'stopped' | 'aborted';

/** Transport trouble worth a reconnect; anything else (404, 401, bad frame) is final. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof DaemonUnreachableError || err instanceof DaemonTimeoutError) return true;
  return err instanceof DaemonProblemError && [429, 502, 503, 504].includes(err.status);
}

const defaultBackoff = (attempt: number) => Math.min(5000, 500 * 2 ** (attempt - 1));

export async function follow(opts: FollowOptions): Promise<FollowEnd> {
  const { signal } = opts;
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
        if (opts.onFrame(frame) === 'stop') {
          stop = true;
          break;
        }
      }
    } catch (err) {
      // Before the first successful connect, fail fast: the user wants to know now.
      if (!connected || !isRetryable(err)) throw err;
      lastError = err;
    } finally {
      signal.removeEventListener('abort', link);
      attempt.abort();
    }
    if (stop) return 'stopped';
    if (signal.aborted) return 'aborted';
    try {
      if ((await opts.onDrop?.()) === 'stop') return 'stopped';
    } catch (err) {
      if (!isRetryable(err)) throw err;
      lastError = err;
    }
    failures++;
    if (failures > maxRetries)
      throw lastError ?? new DaemonUnreachableError('the event stream', undefined, 'gave up on');
    const wait = backoff(failures);
    const why = lastError instanceof Error ? lastError.message : 'the daemon closed the stream';
    opts.note(`stream interrupted (${why}); reconnecting in ${(wait / 1000).toFixed(1)}s`);
    await sleep(wait, signal);
  }
  return 'aborted';
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
