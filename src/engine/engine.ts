// The run scheduler: per-session FIFO with one active run, executors with real cancellation,
// restart recovery and draining. Every status change goes through run-states.ts and is
// journaled together with its run event and bus events in one transaction.

import { errors } from '../errors/daemon-error.ts';
import type { RouteInventory } from '../models/route-inventory.ts';
import { RouteResolutionError } from '../models/route-inventory.ts';
import type { EventLog } from '../store/event-log.ts';
import { countPendingApprovals, countPendingQuestions } from '../store/repos/approvals.ts';
import { appendRunEvent } from '../store/repos/journal.ts';
import { releaseLeases } from '../store/repos/leases.ts';
import { getRun, isActive, isTerminal, liveRunsOfSession, type RunRow } from '../store/repos/runs.ts';
import { getSession, type SessionRow } from '../store/repos/sessions.ts';
import type { Store, WriteTx } from '../store/store.ts';
import type { PermissionMode } from '../tools/permissions.ts';
import type { ToolRegistry } from '../tools/registry.ts';
import { LiveToolLimits } from '../tools/runtime-limits.ts';
import { runAgentLoop } from './agent-loop.ts';
import { ExternalAuditUnavailable } from './external-audit.ts';
import { recordOutput } from './finalize.ts';
import { type HookPort, NO_HOOKS } from './hook-port.ts';
import { hasFileItems, type InputAssetsPort, prepareForSession } from './input-assets.ts';
import { KeyedWaiters } from './keyed-waiters.ts';
import { type LeaseOptions, RunLeases } from './leases.ts';
import { createRunInTx } from './new-run.ts';
import type {
  CredentialGatePort,
  DebugCapturePort,
  EngineSettings,
  LoopPort,
  OutputHook,
  QuestionRunHandler,
  ReplicaPort,
  RunChangeHook,
  RunTerminalHook,
  SchedulePayloadPort,
  SchedulerPort,
  SessionEndGuard,
  SessionEndHook,
  SubmitOptions,
} from './ports.ts';
import { type RecoveryStats, recoverRuns } from './recovery.ts';
import { RunStopped } from './run-guard.ts';
import { type RunStatus, type TransitionOptions, transitionRun } from './run-states.ts';
import { endSessionInTx, interruptInTx } from './session-stops.ts';
import { takeOverOrphans } from './takeover.ts';
import { endRunSpan, withRunContext } from './telemetry.ts';
import type { StoredRunRequest } from './types.ts';
import { userPromptSubmit } from './user-prompt-hooks.ts';
import { buildRunView, sessionStatus } from './views.ts';

export interface EngineOptions extends EngineSettings {
  store: Store;
  events: EventLog;
  routes: RouteInventory;
  tools: ToolRegistry;
  /** Live ToolRuntimeLimits shared with the tools (default: the spec's defaults). */
  toolLimits?: LiveToolLimits;
  /** This replica's name and lease lifetime (default: a lone replica named `local`). */
  replica?: LeaseOptions;
}

// Declared with the ports (the scheduler needs them too); callers import them from here.
export type {
  OutputHook,
  RunChangeHook,
  RunTerminalHook,
  SessionEndGuard,
  SessionEndHook,
  SubmitOptions,
} from './ports.ts';

interface Executor {
  controller: AbortController;
  done: Promise<void>;
}

export class Engine implements LoopPort, ReplicaPort, SchedulerPort {
  readonly store: Store;
  readonly events: EventLog;
  readonly routes: RouteInventory;
  readonly tools: ToolRegistry;
  readonly toolLimits: LiveToolLimits;
  readonly opts: EngineOptions;
  /** The runs this replica executes and their fencing generations. */
  readonly leases: RunLeases;
  private readonly executors = new Map<string, Executor>();
  private readonly settleWaiters = new KeyedWaiters();
  private draining = false;
  private readonly terminalHooks: RunTerminalHook[] = [];
  /** Run kinds that ask a question instead of calling a model (parent clarifications). */
  readonly questionRuns = new Map<string, QuestionRunHandler>();
  private readonly sessionEndHooks: SessionEndHook[] = [];
  private readonly sessionEndGuards: SessionEndGuard[] = [];
  private readonly changeHooks: RunChangeHook[] = [];
  private readonly outputHooks: OutputHook[] = [];
  /**
   * Completes a new run's request from its session inside the submit transaction (the deliveries
   * feature snapshots the session's reply targets here); the identity by default.
   */
  requestDefaults: (session: SessionRow, request: StoredRunRequest) => StoredRunRequest = (_s, r) => r;
  /**
   * Which registered tools a run may see and call (agent profiles, tool surfaces); null = all.
   * Set by the feature that owns agents; the engine only asks.
   */
  toolSurfaceFor: (run: RunRow) => Promise<ReadonlySet<string> | null> = async () => null;
  /**
   * The directory a run's tools are rooted at (WorkspacePort): the daemon's workspace unless a
   * feature decorates it (promoted procedures root their child in its worktree).
   */
  workspaceRootFor: (run: RunRow) => Promise<string | null> = async () => this.opts.workspaceRoot;
  /**
   * The system messages a run's model calls start with (runtime prompt settings, the bound
   * persona, skills, MCP instructions; later memory). Features wrap it, each adding its part after the earlier ones';
   * asked before every model call, so a change applies from the next turn.
   */
  systemPromptFor: (run: RunRow) => Promise<string[]> = async () => [];
  /** The permission mode a session's tool calls are judged under (a sidechain pins its own). */
  permissionModeFor: (sessionId: string) => Promise<PermissionMode> = async () => this.permissionMode;
  /**
   * Credential values the daemon holds (secret slots, provider keys), masked in step traces. Set by
   * the daemon's composition; the engine only asks.
   */
  secretValues: () => readonly string[] = () => [];
  /** Hooks (ops-runtime §7): installed by the hooks feature; none by default. */
  hooks: HookPort = NO_HOOKS;
  /** Debug capture of model calls, installed by the debug feature; null = none. */
  debugCapture: DebugCapturePort | null = null;
  /** The credential broker's gate before provider calls, installed by the credentials feature. */
  credentialGate: CredentialGatePort | null = null;
  /** Files in input (import, references, rendering), installed by the multimodal feature; null = text only. */
  inputAssets: InputAssetsPort | null = null;
  /** Builds the runs of schedules with an embedded payload, by its key (observations, playbooks). */
  readonly schedulePayloads = new Map<string, SchedulePayloadPort>();
  /** The daemon-wide permission mode (runtime setting); evaluated at every tool batch. */
  permissionMode: PermissionMode = 'default';

  constructor(opts: EngineOptions) {
    this.opts = opts;
    this.store = opts.store;
    this.events = opts.events;
    this.routes = opts.routes;
    this.tools = opts.tools;
    this.toolLimits = opts.toolLimits ?? new LiveToolLimits();
    this.leases = new RunLeases(opts.replica ?? { replicaId: 'local', ttlMs: 15_000 });
    // A run's root span is exported when it ends, whichever replica ends it (docs/tracing.md).
    this.onRunTerminal(async (tx, run) => tx.afterCommit(() => endRunSpan(run)));
    // Run changes reach this replica through the event log whichever replica committed them.
    this.events.subscribe((ev) => {
      if (ev.name !== 'run_updated' || !ev.run_id) return;
      const status = (ev.data.run as { status?: string } | undefined)?.status;
      if (!status || status === 'running' || status === 'queued') return;
      this.settleWaiters.notify(ev.run_id);
      // Cancelled, interrupted or ended elsewhere: stop the local executor now, not at its next write.
      if (!status.startsWith('waiting_'))
        this.executors.get(ev.run_id)?.controller.abort(new RunStopped(status));
    });
  }

  get isDraining(): boolean {
    return this.draining;
  }

  get activeExecutors(): number {
    return this.executors.size;
  }

  /** Registers a hook run in the same transaction that makes any run terminal. */
  onRunTerminal(hook: RunTerminalHook): void {
    this.terminalHooks.push(hook);
  }

  /** Registers a hook run in the transaction that persists each output (its deliveries commit with it). */
  onOutput(hook: OutputHook): void {
    this.outputHooks.push(hook);
  }

  async outputRecorded(tx: WriteTx, run: RunRow, record: Record<string, unknown>): Promise<void> {
    for (const hook of this.outputHooks) await hook(tx, run, record);
  }

  /** Registers a hook run in the same transaction that ends a session (e.g. orphaning its sidechains). */
  onSessionEnd(hook: SessionEndHook): void {
    this.sessionEndHooks.push(hook);
  }

  /** Registers a check that may refuse ending a session (it throws), before anything is stopped. */
  guardSessionEnd(guard: SessionEndGuard): void {
    this.sessionEndGuards.push(guard);
  }

  /** Registers a hook run in the same transaction as every run status change. */
  onRunChange(hook: RunChangeHook): void {
    this.changeHooks.push(hook);
  }

  /** Records a status change: run event + run_updated + session_state_changed, in `tx`. */
  async recordRunChange(tx: WriteTx, run: RunRow, runEvent: Record<string, unknown> | null): Promise<void> {
    if (runEvent) {
      await appendRunEvent(tx.db, {
        run_id: run.run_id,
        session_id: run.session_id,
        agent_id: run.agent_id,
        timestamp_ms: tx.now,
        event: runEvent,
      });
    }
    const view = await buildRunView(tx.db, run);
    const session = await getSession(tx.db, run.session_id);
    const state = session ? await sessionStatus(tx.db, session) : { status: 'idle' as const };
    await this.events.append(tx, [
      { name: 'run_updated', session_id: run.session_id, run_id: run.run_id, data: { run: view } },
      {
        name: 'session_state_changed',
        session_id: run.session_id,
        data: {
          session_id: run.session_id,
          agent_id: run.agent_id,
          status: state.status,
          pending_approvals: await countPendingApprovals(tx.db, run.session_id),
          pending_questions: await countPendingQuestions(tx.db, run.session_id),
        },
      },
    ]);
    for (const hook of this.changeHooks) await hook(tx, run);
    if (isTerminal(run.status)) for (const hook of this.terminalHooks) await hook(tx, run);
  }

  async transition(tx: WriteTx, runId: string, to: RunStatus, opts: TransitionOptions = {}): Promise<RunRow> {
    const result = await transitionRun(tx, runId, to, opts);
    // The replica that moves a run to `running` executes it: the lease commits with the move.
    if (result.changed && to === 'running') await this.leases.claim(tx, runId);
    if (result.changed) {
      const ev: Record<string, unknown> | null = result.eventType
        ? { type: result.eventType, ...opts.eventExtra }
        : null;
      if (ev && to === 'failed') ev.error = opts.error ?? 'run failed';
      if (ev && to === 'queued') ev.position = 0;
      await this.recordRunChange(tx, result.run, ev);
    }
    return result.run;
  }

  // ---------------------------------------------------------------- submit

  async submit(
    sessionId: string,
    submitted: StoredRunRequest,
    opts: SubmitOptions = {},
  ): Promise<{ run: RunRow; reused: boolean }> {
    if (this.draining) throw errors.draining();
    let request = this.hooks.has('user_prompt_submit')
      ? await userPromptSubmit(this.hooks, sessionId, submitted, opts)
      : submitted;
    // Inline files are imported before the write: the transaction never waits on the assets store.
    if (hasFileItems(request))
      request = await prepareForSession(this.inputAssets, this.routes, this.store.db, sessionId, request);
    // An acknowledgement: it goes ahead of queued executor steps (store.ts, group commit).
    return this.store.write((tx) => this.submitInTx(tx, sessionId, request, opts), 'ack');
  }

  /**
   * Creates a queued run inside the caller's transaction (a schedule claim, a mailbox dispatch, a
   * spawn commit together with their run); the executor starts after the commit.
   */
  async submitInTx(
    tx: WriteTx,
    sessionId: string,
    submitted: StoredRunRequest,
    opts: SubmitOptions = {},
  ): Promise<{ run: RunRow; reused: boolean }> {
    if (this.draining) throw errors.draining();
    return createRunInTx(this, tx, sessionId, submitted, opts, (run) => this.startExecutor(run));
  }

  // ---------------------------------------------------------------- promotion and execution

  /** Promotes the head of the session queue when nothing is active, and starts it. */
  async kick(sessionId: string): Promise<void> {
    if (this.draining) return;
    // Most kicks find nothing to promote: look without a write first (the write checks again).
    const seen = await liveRunsOfSession(this.store.db, sessionId);
    if (seen.some((r) => isActive(r.status)) || !seen.some((r) => r.status === 'queued')) return;
    const promoted = await this.store.write(async (tx) => {
      const live = await liveRunsOfSession(tx.db, sessionId);
      if (live.some((r) => isActive(r.status))) return null;
      const head = live.find((r) => r.status === 'queued');
      if (!head) return null;
      return this.transition(tx, head.run_id, 'running');
    });
    if (promoted) this.startExecutor(promoted);
  }

  /** Starts (or restarts after a human decision) the executor of a run that is `running`. */
  resume(run: RunRow): void {
    this.startExecutor(run);
  }

  private startExecutor(run: RunRow): void {
    if (this.executors.has(run.run_id) || this.draining) return;
    const controller = new AbortController();
    const done = (async () => {
      try {
        await withRunContext(run, () => runAgentLoop(this, run, controller.signal));
      } catch (err) {
        if (controller.signal.aborted || err instanceof RunStopped) return;
        const audit = err instanceof ExternalAuditUnavailable;
        const known = err instanceof RouteResolutionError || audit;
        if (!known)
          this.opts.log.error({ run_id: run.run_id, err: String((err as Error).stack ?? err) }, 'run failed');
        const message = known ? (err as Error).message : `internal error: ${(err as Error).message}`;
        // Fenced like every executor write: a run another replica took over is not failed here.
        await this.store
          .write(async (tx) => {
            await this.leases.fence(tx, run.run_id);
            await this.failRunInTx(tx, run.run_id, message, audit ? err.code : undefined);
          })
          .catch(() => undefined);
      }
    })().finally(() => {
      this.executors.delete(run.run_id);
      this.leases.drop(run.run_id);
      if (!this.draining) void this.kick(run.session_id).catch(() => undefined);
    });
    this.executors.set(run.run_id, { controller, done });
  }

  /** Stops this replica's executor of a run (its lease was lost); the run's status is not changed. */
  abortExecutor(runId: string, reason: string): void {
    this.executors.get(runId)?.controller.abort(new RunStopped(reason));
  }

  hasExecutor(runId: string): boolean {
    return this.executors.has(runId);
  }

  async failRun(runId: string, message: string, code?: string): Promise<void> {
    await this.store.write((tx) => this.failRunInTx(tx, runId, message, code));
  }

  async failRunInTx(tx: WriteTx, runId: string, message: string, code?: string): Promise<void> {
    const run = await getRun(tx.db, runId);
    if (!run || isTerminal(run.status)) return;
    if (code) await tx.db.updateTable('runs').set({ error_code: code }).where('run_id', '=', runId).execute();
    await this.transition(tx, runId, 'failed', { error: message });
  }

  recordOutput(tx: WriteTx, run: RunRow, text: string): Promise<void> {
    return recordOutput(this, tx, run, text);
  }

  // ---------------------------------------------------------------- cancel / interrupt / end

  async cancel(runId: string): Promise<RunRow> {
    const run = await this.store.write(async (tx) => {
      const current = await getRun(tx.db, runId);
      if (!current) throw errors.runNotFound(runId);
      if (current.status === 'cancelled') return current;
      if (isTerminal(current.status))
        throw errors.runStateConflict(
          `run ${runId} already finished as ${current.status}; it cannot be cancelled`,
        );
      return this.transition(tx, runId, 'cancelled');
    });
    this.executors.get(runId)?.controller.abort(new RunStopped('cancelled'));
    void this.kick(run.session_id).catch(() => undefined);
    return run;
  }

  async interruptSession(sessionId: string): Promise<{ interrupted: boolean }> {
    const stopped = await this.store.write((tx) => interruptInTx(this, tx, sessionId));
    if (stopped) this.executors.get(stopped)?.controller.abort(new RunStopped('interrupted'));
    void this.kick(sessionId).catch(() => undefined);
    return { interrupted: stopped !== null };
  }

  /** Ends a session: the active run is interrupted, queued runs are cancelled. */
  async endSession(sessionId: string, reason: string | null): Promise<void> {
    const stopped = await this.store.write((tx) =>
      endSessionInTx(this, tx, sessionId, reason, this.sessionEndHooks, this.sessionEndGuards),
    );
    for (const id of stopped) this.executors.get(id)?.controller.abort(new RunStopped('session ended'));
  }

  // ---------------------------------------------------------------- waiting for a run

  /** Resolves when the run is terminal or waiting for a human. */
  async waitSettled(runId: string, signal?: AbortSignal): Promise<RunRow> {
    for (;;) {
      const run = await getRun(this.store.db, runId);
      if (!run) throw errors.runNotFound(runId);
      if (isTerminal(run.status) || run.status.startsWith('waiting_')) return run;
      if (this.draining) return run;
      await this.settleWaiters.wait(runId, { signal });
      if (signal?.aborted) return (await getRun(this.store.db, runId))!;
    }
  }

  // ---------------------------------------------------------------- restart recovery and drain

  /** Startup repair (recovery.ts): resumes, re-queues or interrupts what the last process left live. */
  async recover(): Promise<RecoveryStats> {
    if (this.store.dialect === 'sqlite') return recoverRuns(this);
    // Shared database: other replicas may be executing; take only runs nobody holds (or this
    // replica's previous process held) and queues nobody moves.
    const t = await takeOverOrphans(this, true);
    return { resumed: t.resumed, requeued: 0, interrupted: 0, sessions: t.resumed + t.kicked };
  }

  /** Stops all executors without changing run status: they resume from their last turn boundary on restart. */
  async drain(): Promise<number> {
    this.draining = true;
    const pending = [...this.executors.values()];
    const held = this.leases.heldRuns().map((h) => h.runId);
    for (const e of pending) e.controller.abort(new RunStopped('draining'));
    await Promise.allSettled(pending.map((e) => e.done));
    // Another replica (or the next start) takes these runs over at once instead of after the TTL.
    await this.store.write((tx) => releaseLeases(tx.db, this.leases.replicaId, held)).catch(() => undefined);
    this.settleWaiters.notifyAll();
    return pending.length;
  }
}
