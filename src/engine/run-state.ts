// What an executor knows about its run between steps: the run row as last committed, the run's
// journal and its position, the operator decisions already recorded, and the session's usage
// before this run. Read once when the executor starts (also after a restart, from the journal);
// afterwards every commit of the executor extends it, so no step re-reads history.

import type { JournalInput } from '../store/journal-tail.ts';
import {
  type ApprovalRow,
  approvalsOfRun,
  type QuestionRow,
  questionsOfRun,
} from '../store/repos/approvals.ts';
import { type JournalEntry, runJournal } from '../store/repos/journal.ts';
import type { RunRow } from '../store/repos/runs.ts';
import type { WriteTx } from '../store/store.ts';
import type { RunUsage } from './budgets.ts';
import { advance, emptyPosition, type RunPosition } from './journal-view.ts';
import type { StorePort, WorkspacePort } from './ports.ts';
import { sessionTotals } from './usage.ts';

export class RunState {
  private readonly engine: StorePort;
  /** The run row as of the executor's last commit (usage included). */
  run: RunRow;
  readonly entries: JournalEntry[] = [];
  readonly pos: RunPosition = emptyPosition();
  /** Durable starts of side-effecting calls, by tool call id. */
  readonly starts = new Map<string, number>();
  /** Bytes of tool results this run has produced (ToolRuntimeLimits' cumulative cap). */
  resultBytes = 0;
  approvals: ApprovalRow[] = [];
  questions: QuestionRow[] = [];
  /** Where this run's tools are rooted (WorkspacePort), fixed for the executor's life. */
  workspaceRoot: string | null = null;
  private sessionBase: { usage: RunUsage; elapsedMs: number } | null = null;

  private constructor(engine: StorePort, run: RunRow) {
    this.engine = engine;
    this.run = run;
  }

  static async load(engine: StorePort & WorkspacePort, run: RunRow): Promise<RunState> {
    const state = new RunState(engine, run);
    const db = engine.store.db;
    // Asked here, outside any transaction: finalize checks completion files inside one.
    state.workspaceRoot = await engine.workspaceRootFor(run);
    state.apply(await runJournal(db, run.run_id));
    // Decisions only appear while the run waits, and a waiting run's executor has stopped: the
    // next executor reads them here.
    state.approvals = await approvalsOfRun(db, run.run_id);
    state.questions = await questionsOfRun(db, run.run_id);
    return state;
  }

  /** Appends to the run's journal in `tx`; the position follows once `tx` commits. */
  async journal(tx: WriteTx, inputs: JournalInput[]): Promise<void> {
    const entries = await this.engine.store.journal.append(tx, this.run.session_id, this.run.run_id, inputs);
    tx.afterCommit(() => this.apply(entries));
  }

  /** The committed row after a write of this executor. */
  committed(tx: WriteTx, row: RunRow): void {
    tx.afterCommit(() => {
      this.run = row;
    });
  }

  /**
   * Usage and elapsed time of the session's other runs, read once: only one run of a session is
   * active at a time, so nothing else adds to them while this executor lives.
   */
  async otherRunsOfSession(): Promise<{ usage: RunUsage; elapsedMs: number }> {
    this.sessionBase ??= await sessionTotals(this.engine.store.db, this.run.session_id, this.run.run_id);
    return this.sessionBase;
  }

  private apply(entries: JournalEntry[]): void {
    for (const e of entries) {
      this.entries.push(e);
      advance(this.pos, e);
      if (e.kind === 'tool_call_started') {
        const id = String(e.payload.tool_call_id);
        this.starts.set(id, (this.starts.get(id) ?? 0) + 1);
      } else if (e.kind === 'tool_result') {
        this.resultBytes += Buffer.byteLength(String(e.payload.content ?? ''), 'utf8');
      }
    }
  }
}
