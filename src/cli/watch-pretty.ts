// The readable form of `runs watch`: status changes, one line per step (step-lines.ts), the
// answer as it streams, approvals and questions with the command that answers them. After a lost
// connection (a daemon restart) the notice stands on its own line and the answer is shown whole,
// never a half answer glued to the resumed one.
import { isTerminalRunStatus, type RunView, type SseFrame } from '../sdk/types.ts';
import { arr, errorText, obj, scalar, str } from './format.ts';
import { outputBlocks, runDuration } from './render.ts';
import type { CliRuntime } from './runtime.ts';
import { type StepContext, stepLines } from './step-lines.ts';

export interface WatchOutput {
  /** Before the stream: the run as read by GET. */
  header(run: RunView): void;
  frame(frame: SseFrame): void;
  /** The connection ended or failed; a reconnect follows. */
  dropped(): void;
  /** `byGet`: the final state was read by GET, not seen on the stream. */
  finish(run: RunView, byGet: boolean): void;
}

export class PrettyWatch implements WatchOutput {
  private readonly rt: CliRuntime;
  private readonly runId: string;
  private readonly ctx: StepContext;
  /** The stream starts at the run's first event: a gap before it may not concern this run. */
  private readonly fromStart: boolean;
  private heldGap: Record<string, unknown> | undefined;
  private sawRunFrame = false;
  private status = '';
  /**
   * The answer text streamed since the last output, and whether this watch saw the start of the
   * model call that streams it: text deltas are live only, so an answer whose start was missed
   * (it began before the watch connected, or during a reconnect) is not streamed as a fragment
   * but printed whole when its output arrives.
   */
  private streamed = '';
  private turnSeen = false;
  private textOpen = false;
  private shownOutput = false;
  private readonly asked = new Set<string>();

  constructor(rt: CliRuntime, run: RunView, fromStart: boolean) {
    this.rt = rt;
    this.runId = run.run_id;
    this.fromStart = fromStart;
    this.ctx = { session_id: run.session_id, run_id: run.run_id, args: new Map() };
  }

  header(run: RunView): void {
    const live = isTerminalRunStatus(run.status) ? '' : ` is ${run.status}`;
    this.line(`run ${run.run_id} (session ${run.session_id})${live}`);
  }

  frame(frame: SseFrame): void {
    const data = obj(frame.data) ?? {};
    if (frame.event === 'stream_gap') {
      this.gap(data);
      return;
    }
    if (frame.event === 'interrupted') {
      this.line('· session interrupted');
      return;
    }
    const runId = str(obj(data.run)?.run_id) ?? str(obj(data.trace)?.run_id) ?? str(obj(data.output)?.run_id);
    if (runId !== this.runId) return;
    this.firstRunFrame(frame, data);
    if (frame.event === 'run_updated') this.update(obj(data.run) as RunView);
    else if (frame.event === 'trace') this.trace(obj(data.trace) ?? {});
    else if (frame.event === 'output') this.output(str(obj(data.output)?.content) ?? '');
  }

  dropped(): void {
    // Deltas sent while disconnected are gone: the rest of this answer comes whole with its output.
    this.turnSeen = false;
    this.closeText();
  }

  finish(run: RunView): void {
    this.closeText();
    // Outputs not seen on the stream (their events left the replay window): from the run view.
    if (!this.shownOutput) {
      const blocks = outputBlocks(run.outputs).map((b) => b.replace(/^ {2}/gm, ''));
      if (blocks.length > 0) this.rt.print(...blocks);
    }
    const took = runDuration(run);
    const error = errorText(run.error);
    const tail = run.status === 'completed' ? (took ? ` in ${took}` : '') : error ? `: ${error}` : '';
    this.line(`run ${run.run_id} ${run.status}${tail}`);
  }

  /** Whether finish() needs the run's outputs (none was shown from the stream). */
  wantsOutputs(): boolean {
    return !this.shownOutput;
  }

  private gap(data: Record<string, unknown>): void {
    if (this.fromStart && !this.sawRunFrame) {
      this.heldGap = data;
      return;
    }
    this.line(`· missed ${scalar(data.skipped)} events (${scalar(data.reason)})`);
  }

  /**
   * A gap held at the start matters only when this run's own first event is gone: the first frame
   * of a run is the submit's run_updated (queued, updated when submitted).
   */
  private firstRunFrame(frame: SseFrame, data: Record<string, unknown>): void {
    if (this.sawRunFrame) return;
    this.sawRunFrame = true;
    const run = obj(data.run);
    const intact =
      frame.event === 'run_updated' && run?.status === 'queued' && run.updated_at_ms === run.submitted_at_ms;
    if (this.heldGap && !intact)
      this.line(
        `· the daemon no longer keeps this run's first events; \`kheish-daemon runs events ${this.runId}\` lists every step`,
      );
    this.heldGap = undefined;
  }

  private update(run: RunView): void {
    if (run.status !== this.status) {
      this.status = run.status;
      if (!isTerminalRunStatus(run.status)) this.line(`· ${run.status}`);
    }
    // Normally the approval_requested / question_asked traces came first; these cover a stream
    // whose traces are gone (replay window) or a daemon without them.
    for (const a of arr(run.pending_approvals)) {
      const req = obj(a) ?? {};
      this.ask({
        kind: 'approval_requested',
        request_id: req.id,
        name: req.tool_name,
        arguments: req.input,
        reason: req.reason,
      });
    }
    for (const q of arr(run.pending_questions)) {
      const req = obj(q) ?? {};
      this.ask({ kind: 'question_asked', request_id: req.id, questions: req.questions });
    }
  }

  private ask(trace: Record<string, unknown>): void {
    const id = str(trace.request_id);
    if (!id || this.asked.has(id)) return;
    this.asked.add(id);
    this.lines(stepLines(trace, this.ctx));
  }

  private trace(trace: Record<string, unknown>): void {
    const kind = str(trace.kind);
    if (kind === 'assistant_text_delta') {
      this.delta(str(trace.delta) ?? '');
      return;
    }
    if (kind === 'model_turn_started') {
      // A new answer starts: whatever streamed before it is over (e.g. cut by a restart).
      this.closeText();
      this.streamed = '';
      this.turnSeen = true;
      return;
    }
    if (kind === 'approval_requested' || kind === 'question_asked') this.ask(trace);
    else this.lines(stepLines(trace, this.ctx));
  }

  private delta(text: string): void {
    if (!text || !this.turnSeen) return;
    this.rt.io.stdout(text);
    this.streamed += text;
    this.textOpen = !text.endsWith('\n');
  }

  private output(content: string): void {
    // Streamed whole already: the output only ends its line. Otherwise (a replay, or an answer
    // whose start was missed) it is printed in full on lines of its own.
    const streamedWhole = this.turnSeen && this.streamed !== '';
    this.closeText();
    if (!streamedWhole && content) this.rt.print(content);
    this.shownOutput = true;
    this.streamed = '';
  }

  private closeText(): void {
    if (!this.textOpen) return;
    this.textOpen = false;
    this.rt.io.stdout('\n');
  }

  private lines(lines: string[]): void {
    for (const l of lines) this.line(l);
  }

  private line(text: string): void {
    this.closeText();
    this.rt.print(text);
  }
}
