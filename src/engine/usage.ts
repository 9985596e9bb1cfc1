// Usage accounting: tokens, cost and model calls on each run row, and totals per session.
import { getRun, type RunRow, usageRowsOfSession } from '../store/repos/runs.ts';
import type { Executor } from '../store/schema.ts';
import type { WriteTx } from '../store/store.ts';
import { addUsage, emptyUsage, type RunUsage } from './budgets.ts';

export function usageOf(run: RunRow): RunUsage {
  return run.usage ? (JSON.parse(run.usage) as RunUsage) : emptyUsage();
}

export async function addRunUsage(tx: WriteTx, runId: string, delta: Partial<RunUsage>): Promise<void> {
  const run = await getRun(tx.db, runId);
  if (!run) return;
  const usage = addUsage(usageOf(run), delta);
  await tx.db
    .updateTable('runs')
    .set({ usage: JSON.stringify(usage) })
    .where('run_id', '=', runId)
    .execute();
}

/** Usage summed over every run of a session, and the wall time those runs have spent. */
export async function sessionTotals(
  db: Executor,
  sessionId: string,
): Promise<{ usage: RunUsage; elapsedMs: number }> {
  let usage = emptyUsage();
  let elapsedMs = 0;
  const now = Date.now();
  for (const r of await usageRowsOfSession(db, sessionId)) {
    if (r.usage) usage = addUsage(usage, JSON.parse(r.usage) as RunUsage);
    if (r.started_at_ms !== null) elapsedMs += (r.finished_at_ms ?? now) - r.started_at_ms;
  }
  return { usage, elapsedMs };
}
