// Usage accounting: tokens, cost and model calls on each run row, and totals per session.
import { type RunRow, updateRun, usageRowsOfSession } from '../store/repos/runs.ts';
import type { Executor } from '../store/schema.ts';
import type { WriteTx } from '../store/store.ts';
import { addUsage, emptyUsage, type RunUsage } from './budgets.ts';

export function usageOf(run: RunRow): RunUsage {
  return run.usage ? (JSON.parse(run.usage) as RunUsage) : emptyUsage();
}

/** Adds to the usage of `run` (the row as read in `tx`) and returns the updated row. */
export async function addRunUsage(tx: WriteTx, run: RunRow, delta: Partial<RunUsage>): Promise<RunRow> {
  const usage = JSON.stringify(addUsage(usageOf(run), delta));
  await updateRun(tx.db, run.run_id, { usage });
  return { ...run, usage };
}

/** Usage summed over the runs of a session (all, or all but one), and the wall time they spent. */
export async function sessionTotals(
  db: Executor,
  sessionId: string,
  exceptRunId?: string,
): Promise<{ usage: RunUsage; elapsedMs: number }> {
  let usage = emptyUsage();
  let elapsedMs = 0;
  const now = Date.now();
  for (const r of await usageRowsOfSession(db, sessionId)) {
    if (r.run_id === exceptRunId) continue;
    if (r.usage) usage = addUsage(usage, JSON.parse(r.usage) as RunUsage);
    if (r.started_at_ms !== null) elapsedMs += (r.finished_at_ms ?? now) - r.started_at_ms;
  }
  return { usage, elapsedMs };
}
