// Watching one run: its run stream from a cursor (by default the run's first event), across
// reconnects, until the run is over. Ends by itself, so `for await` loops terminate.
import type { DaemonClient } from './client.ts';
import { type ReconnectInfo, resumeStream } from './follow.ts';
import { isTerminalRunStatus, type RunView, type SseFrame } from './types.ts';

/** Cursor that replays a run stream from the run's first retained event. */
export const RUN_START_CURSOR = '0';

export interface WatchOptions {
  /**
   * Replay after this event id. Runs default to their first event; sessions and the daemon-wide
   * stream default to live events only. Pass the last `id` you handled to resume where you were.
   */
  cursor?: string;
  signal?: AbortSignal;
  /** Consecutive failed reconnects tolerated before giving up (default 8). */
  maxRetries?: number;
  onReconnect?(info: ReconnectInfo): void;
}

export interface RunWatchOptions extends WatchOptions {
  /** Every run view the watch learns of (from frames and from its own reads), newest last. */
  onRun?(run: RunView): void;
}

const runOf = (frame: SseFrame, runId: string): RunView | undefined => {
  const run = frame.event === 'run_updated' ? (frame.data?.run as RunView | undefined) : undefined;
  return run?.run_id === runId ? run : undefined;
};

/**
 * Yields the run's frames (heartbeats left out) and returns after the frame that shows the run
 * terminal. When history was pruned (a `stream_gap`) or the run was already over when the stream
 * opened, a read of the run decides instead, so the watch never waits for a frame that will not come.
 */
export async function* watchRun(
  http: DaemonClient,
  runId: string,
  opts: RunWatchOptions = {},
): AsyncGenerator<SseFrame, void, undefined> {
  let overAtOpen = false;
  const read = async (): Promise<boolean> => {
    const run = await http.getRun(runId);
    opts.onRun?.(run);
    return isTerminalRunStatus(run.status);
  };
  const frames = resumeStream({
    // The resume point travels as Last-Event-ID, as a browser's EventSource would send it.
    open: ({ cursor, signal, onOpen }) => http.streamRun(runId, {}, { lastEventId: cursor, signal, onOpen }),
    cursor: opts.cursor ?? RUN_START_CURSOR,
    signal: opts.signal,
    maxRetries: opts.maxRetries,
    onReconnect: opts.onReconnect,
    // Read after subscribing: every event before this read is in the replay that follows.
    onOpen: async () => {
      overAtOpen = await read();
      return undefined;
    },
  });
  for await (const frame of frames) {
    if (frame.event === 'heartbeat') {
      // Idle after the replay of a run that was already over: its last frame is behind us.
      if (overAtOpen) return;
      continue;
    }
    yield frame;
    const run = runOf(frame, runId);
    if (run) {
      opts.onRun?.(run);
      if (isTerminalRunStatus(run.status)) return;
    }
    if (frame.event === 'stream_gap' && (await read())) return;
  }
}
