// `runs watch`: follow one run live until it reaches a terminal status. Pretty mode shows status
// changes, the assistant text as it streams, tool activity and the outcome; json mode prints each
// frame as one JSON line. Exit code 0 only when the run completed.
import { isTerminalRunStatus, type RunView, type SseFrame } from '../sdk/types.ts';
import { EXIT } from './errors.ts';
import { follow, sleep } from './follow.ts';
import { arr, errorText, obj, scalar, str } from './format.ts';
import { outputBlocks, runDuration } from './render.ts';
import type { CliRuntime } from './runtime.ts';

export const exitCodeForRun = (run: RunView): number => (run.status === 'completed' ? EXIT.ok : EXIT.failure);

interface WatchOutput {
  /** A run state learnt from GET rather than from the stream. */
  snapshot(run: RunView, first: boolean): void;
  frame(frame: SseFrame): void;
  finish(run: RunView): void;
  /** Whether finish() would print the run's outputs (nothing was shown live). */
  wantsOutputs(): boolean;
}

/** json mode: frames verbatim; states learnt by GET appear as synthetic id-less run_updated frames. */
class JsonWatch implements WatchOutput {
  private readonly rt: CliRuntime;
  constructor(rt: CliRuntime) {
    this.rt = rt;
  }
  snapshot(run: RunView): void {
    this.rt.jsonLine({ event: 'run_updated', data: { type: 'run_updated', run } });
  }
  frame(frame: SseFrame): void {
    this.rt.jsonFrame(frame);
  }
  finish(): void {}
  wantsOutputs(): boolean {
    return false;
  }
}

class PrettyWatch implements WatchOutput {
  private readonly rt: CliRuntime;
  private status = '';
  private textOpen = false;
  /** Once any text reached the screen live, the final view's outputs would only repeat it. */
  private textShown = false;
  private approvalsShown = new Set<string>();

  constructor(rt: CliRuntime) {
    this.rt = rt;
  }

  snapshot(run: RunView, first: boolean): void {
    if (first) {
      this.status = run.status;
      // A finished run goes straight to its result; a live one gets a header first.
      if (!isTerminalRunStatus(run.status))
        this.line(`run ${run.run_id} (session ${run.session_id}): ${run.status}`);
      return;
    }
    this.update(run);
  }

  frame(frame: SseFrame): void {
    const data = obj(frame.data) ?? {};
    if (frame.event === 'run_updated') {
      const run = obj(data.run) as RunView | undefined;
      if (run) this.update(run);
    } else if (frame.event === 'trace') {
      this.trace(obj(data.trace) ?? {});
    } else if (frame.event === 'output') {
      this.textShown = true;
      // When its text was streamed as deltas already, the output only ends the line.
      if (this.textOpen) this.closeText();
      else {
        const content = str(obj(data.output)?.content);
        if (content) this.line(content);
      }
    } else if (frame.event === 'stream_gap') {
      this.line(`· missed ${scalar(data.skipped)} events (${scalar(data.reason)})`);
    } else if (frame.event === 'interrupted') {
      this.line('· session interrupted');
    }
  }

  wantsOutputs(): boolean {
    return !this.textShown;
  }

  finish(run: RunView): void {
    this.closeText();
    if (!this.textShown) {
      const blocks = outputBlocks(run.outputs).map((b) => b.replace(/^ {2}/gm, ''));
      if (blocks.length > 0) this.rt.print(...blocks);
    }
    const took = runDuration(run);
    const error = errorText(run.error);
    const tail = run.status === 'completed' ? (took ? ` in ${took}` : '') : error ? `: ${error}` : '';
    this.line(`run ${run.run_id} ${run.status}${tail}`);
  }

  private update(run: RunView): void {
    if (run.status !== this.status) {
      this.status = run.status;
      if (!isTerminalRunStatus(run.status)) this.line(`· ${run.status}`);
    }
    for (const a of arr(run.pending_approvals)) {
      const req = obj(a);
      const id = str(req?.id);
      if (!id || this.approvalsShown.has(id)) continue;
      this.approvalsShown.add(id);
      const reason = str(req?.reason) ? ` (${req?.reason})` : '';
      this.line(`· approval needed: ${scalar(req?.tool_name)}${reason}`);
      this.line(`  allow with: kheish-daemon approvals allow ${run.session_id} ${id}`);
    }
  }

  private trace(trace: Record<string, unknown>): void {
    const kind = str(trace.kind) ?? 'trace';
    if (kind === 'assistant_text_delta') {
      const delta = str(trace.delta);
      if (delta) {
        this.rt.io.stdout(delta);
        this.textShown = true;
        this.textOpen = !delta.endsWith('\n');
      }
      return;
    }
    const parts = [
      str(trace.name) ?? str(trace.tool_name),
      trace.status === undefined ? undefined : `status ${scalar(trace.status)}`,
    ];
    const message = str(trace.message);
    const detail = parts.filter(Boolean).join(', ');
    this.line(`· ${kind}${detail ? ` ${detail}` : ''}${message ? `: ${message}` : ''}`);
  }

  private closeText(): void {
    if (!this.textOpen) return;
    this.textOpen = false;
    this.rt.io.stdout('\n');
  }

  private line(text: string): void {
    this.closeText();
    this.rt.print(text);
  }
}

export interface WatchOptions {
  /** A run view the caller already holds (e.g. the 202 of a submit), saving the first GET. */
  initial?: RunView;
  cursor?: string;
}

/** Streams the run until it ends; returns the exit code. */
export async function watchRun(rt: CliRuntime, runId: string, opts: WatchOptions = {}): Promise<number> {
  const client = rt.client();
  let view = opts.initial ?? (await client.getRun(runId));
  const out: WatchOutput = rt.json ? new JsonWatch(rt) : new PrettyWatch(rt);
  out.snapshot(view, true);
  if (isTerminalRunStatus(view.status)) {
    out.finish(view);
    return exitCodeForRun(view);
  }

  let final: RunView | undefined;
  // Anything that happened between our GET and the subscription is only visible by GET again.
  const refresh = async (): Promise<'stop' | undefined> => {
    const now = await client.getRun(runId);
    if (now.status !== view.status) out.snapshot(now, false);
    view = now;
    if (!isTerminalRunStatus(now.status)) return undefined;
    final = now;
    return 'stop';
  };
  const interrupt = new AbortController();
  const off = rt.io.onInterrupt(() => interrupt.abort());
  try {
    await follow({
      open: ({ cursor, signal, onOpen }) => client.streamRun(runId, { cursor }, { signal, onOpen }),
      cursor: opts.cursor,
      signal: interrupt.signal,
      onOpen: refresh,
      onDrop: refresh,
      onFrame: (frame) => {
        out.frame(frame);
        const run =
          frame.event === 'run_updated' ? (obj(obj(frame.data)?.run) as RunView | undefined) : undefined;
        if (!run || run.run_id !== runId) return undefined;
        view = run;
        if (!isTerminalRunStatus(run.status)) return undefined;
        final = run;
        return 'stop';
      },
      note: (line) => rt.note(line),
    });
  } finally {
    off();
  }
  if (!final) {
    rt.note(
      `stopped watching; run ${runId} is still ${view.status} in the daemon`,
      `resume with: kheish-daemon runs watch ${runId}`,
    );
    return EXIT.interrupted;
  }
  if (out.wantsOutputs() && !Array.isArray(final.outputs)) {
    // Nothing was shown live and the frame carries no outputs: read them, keep the frame's status.
    const outputs = await client.getRun(runId).then(
      (r) => r.outputs,
      () => undefined,
    );
    final = { ...final, outputs };
  }
  out.finish(final);
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
