// `runs watch`: replay a run from its first event, then follow it live until it reaches a
// terminal status, across lost connections and daemon restarts (reconnect with the last event
// id). Pretty mode is watch-pretty.ts; json mode prints each event as one JSON line. Exit code 0
// only when the run completed.
import { isTerminalRunStatus, type RunView, type SseFrame } from '../sdk/types.ts';
import { EXIT } from './errors.ts';
import { follow, sleep } from './follow.ts';
import { obj, str } from './format.ts';
import type { CliRuntime } from './runtime.ts';
import { PrettyWatch, type WatchOutput } from './watch-pretty.ts';

export const exitCodeForRun = (run: RunView): number => (run.status === 'completed' ? EXIT.ok : EXIT.failure);

/**
 * json mode: every event of the run verbatim, one per line (heartbeats left out); a final state
 * read by GET is an id-less run_updated.
 */
class JsonWatch implements WatchOutput {
  private readonly rt: CliRuntime;
  constructor(rt: CliRuntime) {
    this.rt = rt;
  }
  header(): void {}
  frame(frame: SseFrame): void {
    this.rt.jsonFrame(frame);
  }
  dropped(): void {}
  finish(run: RunView, byGet: boolean): void {
    if (byGet) this.rt.jsonLine({ event: 'run_updated', data: { type: 'run_updated', run } });
  }
}

export interface WatchOptions {
  /** Replay after this event id instead of from the run's first event. */
  cursor?: string;
}

/** What to watch: a run by id, or a run this watch submits once it listens to the session. */
export type WatchTarget = { runId: string } | { sessionId: string; submit: () => Promise<RunView> };

const runOf = (frame: SseFrame): RunView | undefined =>
  frame.event === 'run_updated' ? (obj(obj(frame.data)?.run) as RunView | undefined) : undefined;

function frameRunId(frame: SseFrame): string | undefined {
  const data = obj(frame.data) ?? {};
  return str(obj(data.run)?.run_id) ?? str(obj(data.trace)?.run_id) ?? str(obj(data.output)?.run_id);
}

/**
 * Streams the run until it ends; returns the exit code. Nothing of the run is missed: a run given
 * by id is replayed from cursor 0 (its run stream reads its own retained events by run id), and a
 * submitted run is submitted only once the session's stream is open, so even its first model
 * call's live frames (the start, the text deltas) arrive.
 */
export async function watchRun(
  rt: CliRuntime,
  target: WatchTarget,
  opts: WatchOptions = {},
): Promise<number> {
  const client = rt.client();
  let first: RunView | undefined = 'runId' in target ? await client.getRun(target.runId) : undefined;
  let runId = first?.run_id ?? '';
  let out: WatchOutput | undefined;
  let pretty: PrettyWatch | undefined;
  const begin = (run: RunView) => {
    first = run;
    runId = run.run_id;
    pretty = rt.json ? undefined : new PrettyWatch(rt, run, opts.cursor === undefined);
    out = pretty ?? new JsonWatch(rt);
    out.header(run);
  };
  if (first) begin(first);

  // A terminal state read by GET. The stream normally ends on the run's terminal run_updated;
  // when that event is no longer kept (or lies before the cursor) nothing more comes: a whole
  // connection, or two heartbeats, without a frame of the run say the replay is over.
  let known: RunView | undefined = first && isTerminalRunStatus(first.status) ? first : undefined;
  let latest = first;
  let final: RunView | undefined;
  let byGet = false;
  let beats = 0;
  let knownAtOpen = false;
  let runFrames = 0;
  const endByGet = (): 'stop' => {
    final = known;
    byGet = true;
    return 'stop';
  };
  const interrupt = new AbortController();
  const off = rt.io.onInterrupt(() => interrupt.abort());
  try {
    await follow({
      open: ({ cursor, signal, onOpen }) => {
        beats = 0;
        runFrames = 0;
        knownAtOpen = known !== undefined;
        if ('runId' in target) return client.streamRun(runId, { cursor }, { signal, onOpen });
        return client.streamSession(target.sessionId, { cursor }, { signal, onOpen });
      },
      cursor: 'runId' in target ? (opts.cursor ?? '0') : undefined,
      signal: interrupt.signal,
      onOpen: async () => {
        if (!first && !('runId' in target)) begin(await target.submit());
        return undefined;
      },
      onDrop: async () => {
        out?.dropped();
        // A whole connection with nothing of a finished run: there is nothing more to replay.
        if (knownAtOpen && runFrames === 0) return endByGet();
        if (!runId) return undefined;
        const now = await client.getRun(runId);
        if (isTerminalRunStatus(now.status)) known = now;
        return undefined;
      },
      onFrame: (frame) => {
        if (frame.event === 'heartbeat') return known && ++beats >= 2 ? endByGet() : undefined;
        if (frame.event !== 'stream_gap' && frameRunId(frame) !== runId) return undefined;
        out?.frame(frame);
        if (frame.event === 'stream_gap') return undefined;
        beats = 0;
        runFrames++;
        const run = runOf(frame);
        if (!run) return undefined;
        latest = run;
        if (!isTerminalRunStatus(run.status)) return undefined;
        final = run;
        return 'stop';
      },
      note: (line) => {
        out?.dropped();
        rt.note(line);
      },
    });
  } finally {
    off();
  }
  if (!final || !out) {
    out?.dropped();
    rt.note(
      `stopped watching; run ${runId} is still ${latest?.status ?? 'unfinished'} in the daemon`,
      `resume with: kheish-daemon runs watch ${runId}`,
    );
    return EXIT.interrupted;
  }
  if (pretty?.wantsOutputs() && !Array.isArray(final.outputs)) {
    // Nothing was shown from the stream and the frame carries no outputs: read them.
    const outputs = await client.getRun(runId).then(
      (r) => r.outputs,
      () => undefined,
    );
    final = { ...final, outputs };
  }
  out.finish(final, byGet);
  return exitCodeForRun(final);
}

/** `--wait`: poll GET /v1/runs/{id} until the run is terminal; returns the final view, or undefined on Ctrl-C. */
export async function pollRun(
  rt: CliRuntime,
  runId: string,
  intervalMs: number,
): Promise<RunView | undefined> {
  const client = rt.client();
  const interrupt = new AbortController();
  const off = rt.io.onInterrupt(() => interrupt.abort());
  try {
    for (;;) {
      const run = await client.getRun(runId);
      if (isTerminalRunStatus(run.status)) return run;
      await sleep(intervalMs, interrupt.signal);
      if (interrupt.signal.aborted) {
        rt.note(`stopped waiting; run ${runId} is still ${run.status} in the daemon`);
        return undefined;
      }
    }
  } finally {
    off();
  }
}
