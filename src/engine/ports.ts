// What the modules the engine drives may use of it. The Engine owns the executors, queues and
// hooks; the loop modules (agent loop, steps, recovery, take-over, replica, scheduler) take one of
// these views instead of the Engine class, so none of them imports engine.ts and engine.ts can
// import them without a circle (ARCHITECTURE §3). Engine implements every one of them.
import type { ModelDriver, ModelRequest, ModelResponse } from '../models/driver.ts';
import type { RouteInventory } from '../models/route-inventory.ts';
import type { EventLog } from '../store/event-log.ts';
import type { JournalEntry } from '../store/repos/journal.ts';
import type { RunRow } from '../store/repos/runs.ts';
import type { Executor } from '../store/schema.ts';
import type { Store, WriteTx } from '../store/store.ts';
import type { UserQuestionRequest } from '../tools/control/question.ts';
import type { PermissionMode } from '../tools/permissions.ts';
import type { ToolRegistry } from '../tools/registry.ts';
import type { LiveToolLimits } from '../tools/runtime-limits.ts';
import type { ExternalAudit } from './external-audit.ts';
import type { HookPort } from './hook-port.ts';
import type { InputAssetsPort } from './input-assets.ts';
import type { RunLeases } from './leases.ts';
import type { RunStatus, TransitionOptions } from './run-states.ts';
import type { RunKind, StoredRunRequest } from './types.ts';

export interface EngineLog {
  info(o: object, m?: string): void;
  warn(o: object, m?: string): void;
  error(o: object, m?: string): void;
}

/** The daemon settings the loop reads (a part of EngineOptions). */
export interface EngineSettings {
  workspaceRoot: string | null;
  maxTurns: number;
  /** The signed external-action ledger and its fail-closed gate. */
  audit: ExternalAudit;
  log: EngineLog;
}

export interface SubmitOptions {
  kind?: RunKind;
  idempotency?: { keyHash: string; fingerprint: string };
  /** Inline /input: refuse when anything is active or queued (checked in the same transaction). */
  requireIdle?: boolean;
}

/** Runs inside the transaction that makes a run terminal (parents, schedules learn it atomically). */
export type RunTerminalHook = (tx: WriteTx, run: RunRow) => Promise<void>;
/** Runs inside the transaction that persists an output record (deliveries are queued with it). */
export type OutputHook = (tx: WriteTx, run: RunRow, record: Record<string, unknown>) => Promise<void>;
/** Runs inside the transaction that ends a session (after its live runs were stopped). */
export type SessionEndHook = (tx: WriteTx, sessionId: string) => Promise<void>;
/**
 * Asked inside the transaction that would end a session, before anything is stopped: throwing (a
 * DaemonError) refuses the end and nothing of it is written (project members, api-collab §2.9).
 */
export type SessionEndGuard = (tx: WriteTx, sessionId: string) => Promise<void>;
/**
 * Runs inside every transaction that changes a run's status, before the terminal hooks: records
 * that follow a run (project tasks) move with it in the same commit.
 */
export type RunChangeHook = (tx: WriteTx, run: RunRow) => Promise<void>;

export interface QuestionRunAnswer {
  declined: boolean;
  /** The wire answers (`question_id`, `selected_option_ids`, `freeform_answer?`). */
  answers: Array<{ question_id: string; selected_option_ids: string[]; freeform_answer?: string }>;
  justification?: string;
  /** operator, operator_cancel, expired. */
  source: string;
}

/** A run kind that asks a question instead of calling a model (question-runs.ts). */
export interface QuestionRunHandler {
  /** The question to park on; null when nothing is left to ask (the run completes at once). */
  question(tx: WriteTx, run: RunRow): Promise<UserQuestionRequest | null>;
  /** Applies the answer (or the decline) inside the transaction that completes the run. */
  resolve(tx: WriteTx, run: RunRow, answer: QuestionRunAnswer): Promise<void>;
  /** Extra PendingQuestionView fields (the requester of a parent clarification). */
  requester(db: Executor, run: RunRow): Promise<Record<string, unknown>>;
}

/** Reads of the store (run-state.ts). */
export interface StorePort {
  readonly store: Store;
}

/**
 * Where a run's file and shell tools are rooted (and its completion requirements checked): the
 * daemon's workspace, or a directory a feature gave the run's session (a promoted procedure's
 * worktree). Asked once when an executor loads the run, outside any transaction; null = no
 * workspace (file and shell tools refuse).
 */
export interface WorkspacePort {
  workspaceRootFor(run: RunRow): Promise<string | null>;
}

/** Writes on behalf of a running run, fenced by its lease (run-guard.ts). */
export interface RunWritePort extends StorePort {
  readonly leases: RunLeases;
}

/** Status changes, journaled with their run and bus events. */
export interface TransitionPort {
  transition(tx: WriteTx, runId: string, to: RunStatus, opts?: TransitionOptions): Promise<RunRow>;
}

/**
 * Debug capture of model calls (the debug feature installs it). Asked once when a call starts:
 * null (capture off) costs the call nothing more; a recorder runs the driver call and records
 * what was sent and received, and never fails the call on its own account.
 */
export interface DebugCapturePort {
  begin(
    run: RunRow,
    journal: readonly JournalEntry[],
    route: { route_id: string; model: string },
  ): ModelCallRecorder | null;
}

export interface ModelCallRecorder {
  call(driver: ModelDriver, req: ModelRequest): Promise<ModelResponse>;
}

/**
 * The credential broker's check before every provider call (src/features/credentials): credential
 * scope of the session chain, revoked subjects, slots and leases. Null = the call may go out.
 */
export interface CredentialGatePort {
  authorizeRoute(run: RunRow, routeId: string): Promise<{ code: string; message: string } | null>;
  /** The daemon's own provider calls (model hooks), as the `daemon` subject. */
  authorizeDaemonRoute(routeId: string): Promise<{ code: string; message: string } | null>;
}

/** A model call and a compaction (model-step.ts, compaction.ts). */
export interface ModelPort extends RunWritePort {
  readonly routes: RouteInventory;
  readonly events: EventLog;
  readonly hooks: HookPort;
  readonly debugCapture: DebugCapturePort | null;
  readonly credentialGate: CredentialGatePort | null;
  /** Files in input: rendered for the route just before each call (installed by the multimodal feature). */
  readonly inputAssets: InputAssetsPort | null;
  readonly opts: EngineSettings;
  secretValues(): readonly string[];
}

/** Outputs and the completion boundary (finalize.ts). */
export interface FinalizePort extends TransitionPort {
  readonly events: EventLog;
  readonly opts: EngineSettings;
  recordRunChange(tx: WriteTx, run: RunRow, runEvent: Record<string, unknown> | null): Promise<void>;
  failRunInTx(tx: WriteTx, runId: string, message: string, code?: string): Promise<void>;
  /** The output hooks, in the transaction that persisted the record. */
  outputRecorded(tx: WriteTx, run: RunRow, record: Record<string, unknown>): Promise<void>;
}

/** A batch of tool calls under the permission policy (tool-calls.ts). */
export interface ToolPort extends RunWritePort, TransitionPort {
  readonly events: EventLog;
  readonly hooks: HookPort;
  readonly tools: ToolRegistry;
  readonly toolLimits: LiveToolLimits;
  readonly opts: EngineSettings;
  toolSurfaceFor(run: RunRow): Promise<ReadonlySet<string> | null>;
  permissionModeFor(sessionId: string): Promise<PermissionMode>;
  /** Credential values configured in the daemon, masked wherever a trace shows arguments or output. */
  secretValues(): readonly string[];
}

/** Interrupting and ending sessions (session-stops.ts). */
export interface StopPort extends TransitionPort {
  readonly events: EventLog;
}

/** Question expiry (question-expiry.ts) and the agent loop's question runs. */
export interface QuestionPort extends StorePort, TransitionPort {
  readonly events: EventLog;
  readonly questionRuns: ReadonlyMap<string, QuestionRunHandler>;
}

/** The executor of one run (agent-loop.ts): every step above, and failing or answering the run. */
export interface LoopPort extends ModelPort, FinalizePort, ToolPort, QuestionPort, WorkspacePort {
  systemPromptFor(run: RunRow): Promise<string[]>;
  failRun(runId: string, message: string, code?: string): Promise<void>;
  recordOutput(tx: WriteTx, run: RunRow, text: string): Promise<void>;
}

/** Restart recovery and the take-over of orphaned runs (recovery.ts, takeover.ts). */
export interface RecoveryPort extends RunWritePort, TransitionPort {
  readonly events: EventLog;
  resume(run: RunRow): void;
  kick(sessionId: string): Promise<void>;
  hasExecutor(runId: string): boolean;
}

/** This replica's heartbeat, lease renewal and take-over sweep (replica.ts). */
export interface ReplicaPort extends RecoveryPort {
  readonly isDraining: boolean;
  readonly opts: EngineSettings;
  abortExecutor(runId: string, reason: string): void;
}

/** The fire a SchedulePayloadPort builds a run for; `now` is the selection instant. */
export interface ScheduleFire {
  schedule_id: string;
  session_id: string;
  now: number;
}

/** One fire's run, built by a SchedulePayloadPort (the scheduler stamps where it came from). */
export interface ScheduledRun {
  kind: RunKind;
  request: StoredRunRequest;
  /** Writes what goes with the run (an audit record), in the occurrence's transaction. */
  submitted?(tx: WriteTx, run: RunRow): Promise<void>;
}

/**
 * Schedules whose payload is not a plain request: one port per embedded payload key
 * (`observation_materialization` by the observations feature, `flow_start` by playbooks). Called inside the occurrence's transaction, so what it selects
 * is what the committed run holds; a `skip` reason records the occurrence as skipped (no retry).
 */
export interface SchedulePayloadPort {
  runFor(tx: WriteTx, payload: unknown, fire: ScheduleFire): Promise<ScheduledRun | { skip: string }>;
}

/** The schedule timer (scheduler.ts). */
export interface SchedulerPort extends StorePort {
  readonly isDraining: boolean;
  /** A finished schedule lets go of its input files (decision 223). */
  readonly inputAssets: InputAssetsPort | null;
  /** By payload key; a key with no port installed skips the occurrence with a reason. */
  readonly schedulePayloads: ReadonlyMap<string, SchedulePayloadPort>;
  submitInTx(
    tx: WriteTx,
    sessionId: string,
    submitted: StoredRunRequest,
    opts?: SubmitOptions,
  ): Promise<{ run: RunRow; reused: boolean }>;
  onRunTerminal(hook: RunTerminalHook): void;
}
