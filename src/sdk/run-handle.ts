// A handle on one run: read it, watch it, wait for it, and answer what it waits for. The daemon
// owns the run; the handle only remembers its id, the last view and the last event id it saw.
import type { DaemonClient } from './client.ts';
import { KheishError, RunFailedError, RunWaitTimeoutError } from './errors.ts';
import {
  type AnswerOptions,
  type Answers,
  approvalBatch,
  questionResolution,
  type ResolveOptions,
} from './human-loop.ts';
import { type RunWatchOptions, watchRun } from './run-watch.ts';
import {
  type ApprovalRequest,
  isTerminalRunStatus,
  type OutputRecord,
  type RunView,
  type SseFrame,
  type UserQuestionRequest,
} from './types.ts';

export interface WaitOptions {
  /** Throw RunFailedError unless the run ends `completed`. */
  raiseOnFailure?: boolean;
  /** Give up (RunWaitTimeoutError) after this long; the run itself goes on. No limit by default. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** The run's final view plus its assistant text. */
export type RunResult = RunView & { output_text: string };

export interface ApproveOptions extends ResolveOptions {
  /** Which pending approvals; all of the run's pending approvals by default. */
  requestIds?: string[];
}

export interface RunAnswerOptions extends AnswerOptions {
  /** The question request to answer; the run's first pending one by default. */
  requestId?: string;
}

/** `output_text`: the text of the run's outputs, in order, one per paragraph. */
export function outputText(run: RunView): string {
  const outputs: OutputRecord[] = Array.isArray(run.outputs) ? run.outputs : [];
  return outputs
    .map((o) => (typeof o.content === 'string' ? o.content : ''))
    .filter((t) => t !== '')
    .join('\n\n');
}

const isBlocked = (s: string) => s === 'waiting_for_approval' || s === 'waiting_for_user_question';

export class RunHandle {
  readonly run_id: string;
  readonly session_id: string;
  /** The newest view of the run this handle has seen. */
  run: RunView;
  /** Id of the last event watch() yielded; a watch without a cursor resumes after it. */
  lastEventId: string | undefined;
  private readonly http: DaemonClient;

  constructor(http: DaemonClient, run: RunView) {
    this.http = http;
    this.run = run;
    this.run_id = run.run_id;
    this.session_id = run.session_id;
  }

  get status(): string {
    return this.run.status;
  }

  /** Reads the run again (GET /v1/runs/{id}). */
  async get(): Promise<RunView> {
    return this.#seen(await this.http.getRun(this.run_id));
  }

  /**
   * The run's events, from its first one (or after `cursor`, or after the last one this handle
   * yielded), reconnecting after drops, until the run is over.
   */
  async *watch(opts: RunWatchOptions = {}): AsyncGenerator<SseFrame, void, undefined> {
    const frames = watchRun(this.http, this.run_id, {
      ...opts,
      cursor: opts.cursor ?? this.lastEventId,
      onRun: (run) => {
        this.#seen(run);
        opts.onRun?.(run);
      },
    });
    for await (const frame of frames) {
      if (frame.id !== undefined) this.lastEventId = frame.id;
      yield frame;
    }
  }

  /** Waits until the run is over and returns its final view with `output_text`. */
  async wait(opts: WaitOptions = {}): Promise<RunResult> {
    const run = await this.#until((r) => isTerminalRunStatus(r.status), opts);
    if (opts.raiseOnFailure && run.status !== 'completed') throw new RunFailedError(run);
    return { ...run, output_text: outputText(run) };
  }

  /** Waits until the run waits for an approval or an answer, or is over. */
  async waitUntilBlocked(opts: Omit<WaitOptions, 'raiseOnFailure'> = {}): Promise<BlockedRun> {
    const settled = (r: RunView) => isBlocked(r.status) || isTerminalRunStatus(r.status);
    return new BlockedRun(this, await this.#until(settled, opts));
  }

  cancel(): Promise<RunView> {
    return this.http.cancelRun(this.run_id).then((r) => this.#seen(r));
  }

  /** Allows pending tool calls (all of them unless `requestIds` says which). */
  approve(opts: ApproveOptions = {}): Promise<RunView> {
    return this.#resolve('allow', opts);
  }

  /** Denies pending tool calls (all of them unless `requestIds` says which); the model is told `reason`. */
  deny(opts: ApproveOptions = {}): Promise<RunView> {
    return this.#resolve('deny', opts);
  }

  /** Answers a pending question request: `{ question_id: ['option_id'] }` or `{ question_id: 'text' }`. */
  async answer(answers: Answers, opts: RunAnswerOptions = {}): Promise<RunView> {
    const { requestId = (await this.#pendingQuestions())[0]?.id, ...rest } = opts;
    if (requestId === undefined) throw new KheishError(`run ${this.run_id} has no pending question`);
    return this.#seen(
      await this.http.resolveRunQuestion(this.run_id, questionResolution(requestId, answers, rest)),
    );
  }

  async #resolve(behavior: 'allow' | 'deny', opts: ApproveOptions): Promise<RunView> {
    const { requestIds = await this.#pendingApprovalIds(), ...rest } = opts;
    if (requestIds.length === 0) throw new KheishError(`run ${this.run_id} has no pending approval`);
    return this.#seen(
      await this.http.resolveRunApprovals(this.run_id, approvalBatch(requestIds, behavior, rest)),
    );
  }

  async #pendingApprovalIds(): Promise<string[]> {
    const run = await this.get();
    return (run.pending_approvals ?? []).map((a) => a.id);
  }

  async #pendingQuestions(): Promise<UserQuestionRequest[]> {
    return (await this.get()).pending_questions ?? [];
  }

  #seen(run: RunView): RunView {
    if (run.run_id === this.run_id) this.run = run;
    return run;
  }

  /** Reads, then watches until `done` holds for the run as the daemon has it now. */
  async #until(done: (run: RunView) => boolean, opts: Omit<WaitOptions, 'raiseOnFailure'>) {
    const signals = [opts.signal, opts.timeoutMs ? AbortSignal.timeout(opts.timeoutMs) : undefined];
    const present = signals.filter((s): s is AbortSignal => s !== undefined);
    const signal = present.length ? AbortSignal.any(present) : undefined;
    let run = await this.get();
    if (done(run)) return run;
    for await (const frame of this.watch({ signal })) {
      const fresh = frame.event === 'run_updated' ? (frame.data?.run as RunView | undefined) : undefined;
      if (fresh?.run_id !== this.run_id || !done(fresh)) continue;
      // A replayed frame may be history (an approval since given): the current view decides.
      run = await this.get();
      if (done(run)) return run;
    }
    run = await this.get();
    if (done(run)) return run;
    if (opts.signal?.aborted) throw opts.signal.reason;
    throw new RunWaitTimeoutError(run, opts.timeoutMs ?? 0);
  }
}

/** A run that stopped to wait for an operator (or ended) and what it waits for. */
export class BlockedRun {
  readonly handle: RunHandle;
  readonly run: RunView;

  constructor(handle: RunHandle, run: RunView) {
    this.handle = handle;
    this.run = run;
  }

  get requiresApproval(): boolean {
    return this.run.status === 'waiting_for_approval';
  }

  get requiresQuestion(): boolean {
    return this.run.status === 'waiting_for_user_question';
  }

  get pendingApprovals(): ApprovalRequest[] {
    return this.run.pending_approvals ?? [];
  }

  get pendingQuestions(): UserQuestionRequest[] {
    return this.run.pending_questions ?? [];
  }

  /** Allows every approval this view shows as pending. */
  approveAll(justification?: string): Promise<RunView> {
    const requestIds = this.pendingApprovals.map((a) => a.id);
    return this.handle.approve({ requestIds, justification });
  }

  denyAll(reason?: string): Promise<RunView> {
    return this.handle.deny({ requestIds: this.pendingApprovals.map((a) => a.id), reason });
  }

  /** Answers the first pending question request. */
  answer(answers: Answers, justification?: string): Promise<RunView> {
    return this.handle.answer(answers, { requestId: this.pendingQuestions[0]?.id, justification });
  }
}
