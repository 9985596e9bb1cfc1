// What other features may ask of recovered run memory (concepts §4.9): the compact, redacted record
// a terminal run left, a listener for new records (semantic capture of learnings hangs on it), the
// semantic-capture receipts replayed on boot, and a session's learning scopes in resolution order.
import type { LearningScope } from '../learnings/port.ts';

export type RunMemoryStatus = 'completed' | 'failed' | 'interrupted' | 'cancelled';
export type SemanticCaptureReceipt = 'pending' | 'completed' | 'skipped';

/** One terminal run's memory, already sanitized (PII redaction per the run-memory policy). */
export interface RunMemoryRecord {
  run_id: string;
  session_id: string;
  captured_at_ms: number;
  status: RunMemoryStatus;
  /** Compact summary (capped): request preview, latest assistant text, error, or a status note. */
  summary: string;
  request_preview: string | null;
  outcome_preview: string | null;
  artifact_ids: string[];
  failure_markers: string[];
  /** Learning scopes visible to the session when the run ended, as `kind:id`. */
  scope_keys: string[];
  semantic_capture: SemanticCaptureReceipt;
}

export interface RunMemoryPort {
  /** The run's record, or null when it left none (non-terminal, disabled, pruned). */
  recordForRun(runId: string): Promise<RunMemoryRecord | null>;
  /** Called after a record is committed, in capture order; errors are logged, never fatal. */
  onRecorded(listener: (record: RunMemoryRecord) => Promise<void> | void): void;
  /**
   * Whether a completed run's receipt starts `pending`, asked in the transaction that ends the run
   * (the learnings feature answers from its capture policy). Unasked, or answering false, the
   * receipt is `skipped` at once: nothing has to settle it later in a commit of its own.
   */
  wantSemanticCapture(predicate: () => boolean): void;
  /** Records whose semantic capture is still `pending` (replayed on boot, oldest first). */
  pendingSemanticCaptures(): Promise<RunMemoryRecord[]>;
  /** Settles a receipt; a settled receipt is never replayed. */
  settleSemanticCapture(runId: string, receipt: 'completed' | 'skipped'): Promise<void>;
  /** Session → bound persona → linked projects → workspace `default` (concepts §4.10). */
  learningScopesFor(sessionId: string): Promise<LearningScope[]>;
}

/** The feature name to `use` it by. */
export const MEMORY_FEATURE = 'memory';
