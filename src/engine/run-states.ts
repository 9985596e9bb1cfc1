// The run state machine (api-core §3.8). This module is the only writer of runs.status.
import { errors } from '../errors/daemon-error.ts';
import { getRun, isTerminal, type RunRow, updateRun } from '../store/repos/runs.ts';
import type { WriteTx } from '../store/store.ts';

export type RunStatus =
  | 'queued'
  | 'running'
  | 'waiting_for_approval'
  | 'waiting_for_user_question'
  | 'completed'
  | 'failed'
  | 'interrupted'
  | 'cancelled';

const LEGAL: Record<RunStatus, readonly RunStatus[]> = {
  queued: ['running', 'failed', 'cancelled'],
  running: [
    'waiting_for_approval',
    'waiting_for_user_question',
    'completed',
    'failed',
    'interrupted',
    'cancelled',
  ],
  waiting_for_approval: ['running', 'failed', 'interrupted', 'cancelled'],
  waiting_for_user_question: ['running', 'completed', 'failed', 'interrupted', 'cancelled'],
  completed: [],
  failed: [],
  interrupted: [],
  cancelled: [],
};

export function isLegalTransition(
  from: RunStatus,
  to: RunStatus,
  opts: { recovery?: boolean } = {},
): boolean {
  if (from === to) return true;
  if (opts.recovery && from === 'running' && to === 'queued') return true;
  return LEGAL[from].includes(to);
}

/** The run-event `type` written for each status reached. */
const EVENT_FOR: Partial<Record<RunStatus, string>> = {
  running: 'started',
  completed: 'completed',
  failed: 'failed',
  interrupted: 'interrupted',
  cancelled: 'cancelled',
  queued: 'queued',
  waiting_for_approval: 'waiting_for_approval',
  waiting_for_user_question: 'waiting_for_user_question',
};

export interface TransitionResult {
  run: RunRow;
  changed: boolean;
  eventType: string | null;
}

export interface TransitionOptions {
  error?: string;
  recovery?: boolean;
  eventExtra?: Record<string, unknown>;
  /** The row as already read (and possibly updated) in this same transaction: saves a re-read. */
  current?: RunRow;
}

/**
 * Moves a run to `to` inside the caller's transaction. Checks against the row as it stands in
 * this transaction (compare-and-set against what is committed). A self-transition is a no-op.
 */
export async function transitionRun(
  tx: WriteTx,
  runId: string,
  to: RunStatus,
  opts: TransitionOptions = {},
): Promise<TransitionResult> {
  const run = opts.current ?? (await getRun(tx.db, runId));
  if (!run) throw errors.runNotFound(runId);
  const from = run.status as RunStatus;
  if (from === to) return { run, changed: false, eventType: null };
  const questionRunOnly = from === 'waiting_for_user_question' && to === 'completed';
  if (!isLegalTransition(from, to, opts) || (questionRunOnly && run.kind !== 'parent_clarification')) {
    throw errors.runStateConflict(`run ${runId} cannot move from ${from} to ${to}`);
  }
  const patch: Partial<RunRow> = { status: to, updated_at_ms: tx.now };
  if (to === 'running' && run.started_at_ms === null) patch.started_at_ms = tx.now;
  if (isTerminal(to)) patch.finished_at_ms = tx.now;
  if (opts.error !== undefined) patch.error = opts.error;
  await updateRun(tx.db, runId, patch);
  return { run: { ...run, ...patch }, changed: true, eventType: EVENT_FOR[to] ?? null };
}
