// The CLI's "follow until Ctrl-C or told to stop" loop, over the SDK's resumable stream: after a
// drop it reconnects with the last seen event id as cursor and tells the user on stderr.
import { type OpenArgs, resumeStream, type Verdict } from '../sdk/follow.ts';
import type { SseFrame } from '../sdk/types.ts';

export { isRetryable, type OpenArgs, sleep, type Verdict } from '../sdk/follow.ts';

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

export async function follow(opts: FollowOptions): Promise<FollowEnd> {
  let stopped = false;
  const verdict = async (hook: (() => Promise<Verdict>) | undefined): Promise<Verdict> => {
    const v = await hook?.();
    if (v === 'stop') stopped = true;
    return v;
  };
  const frames = resumeStream({
    open: opts.open,
    cursor: opts.cursor,
    signal: opts.signal,
    maxRetries: opts.maxRetries,
    backoffMs: opts.backoffMs,
    onOpen: () => verdict(opts.onOpen?.bind(opts)),
    onDrop: () => verdict(opts.onDrop?.bind(opts)),
    onReconnect: ({ delayMs, error }) => {
      const why = error instanceof Error ? error.message : 'the daemon closed the stream';
      opts.note(`stream interrupted (${why}); reconnecting in ${(delayMs / 1000).toFixed(1)}s`);
    },
  });
  for await (const frame of frames) {
    if (opts.onFrame(frame) === 'stop') return 'stopped';
  }
  return stopped ? 'stopped' : 'aborted';
}
