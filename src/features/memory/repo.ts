// Queries of the `run_memories` table (migration 0035). Dialect-neutral Kysely; the full-text part
// goes through src/store/full-text.ts.

import { fullTextKeys, textTokens } from '../../store/full-text.ts';
import { RUN_MEMORIES_FULL_TEXT } from '../../store/migrations/0035-run-memories.ts';
import type { Executor, RunMemoriesTable } from '../../store/schema.ts';
import type { RunMemoryRecord, RunMemoryStatus, SemanticCaptureReceipt } from './port.ts';
import { indexPrefix } from './ranking.ts';

type Row = Omit<RunMemoriesTable, 'seq'> & { seq: number };

const list = (text: string): string[] => {
  try {
    const v = JSON.parse(text) as unknown;
    return Array.isArray(v) ? v.map(String) : [];
  } catch {
    return [];
  }
};

export function recordOf(r: Row): RunMemoryRecord {
  return {
    run_id: r.run_id,
    session_id: r.session_id,
    captured_at_ms: Number(r.captured_at_ms),
    status: r.status as RunMemoryStatus,
    summary: r.summary,
    request_preview: r.request_preview,
    outcome_preview: r.outcome_preview,
    artifact_ids: list(r.artifact_ids),
    failure_markers: list(r.failure_markers),
    scope_keys: list(r.scope_keys),
    semantic_capture: r.semantic_capture as SemanticCaptureReceipt,
  };
}

/** The words a record is found by, as the full-text index stores them. */
export function searchTextOf(r: RunMemoryRecord): string {
  return textTokens(
    [r.summary, r.request_preview ?? '', r.outcome_preview ?? '', ...r.failure_markers].join('\n'),
  ).join(' ');
}

export async function insertRecord(db: Executor, r: RunMemoryRecord): Promise<void> {
  const values = {
    run_id: r.run_id,
    session_id: r.session_id,
    captured_at_ms: r.captured_at_ms,
    status: r.status,
    summary: r.summary,
    request_preview: r.request_preview,
    outcome_preview: r.outcome_preview,
    artifact_ids: JSON.stringify(r.artifact_ids),
    failure_markers: JSON.stringify(r.failure_markers),
    scope_keys: JSON.stringify(r.scope_keys),
    semantic_capture: r.semantic_capture,
    search_text: searchTextOf(r),
  };
  // A run ends once; a replayed terminal hook keeps the first record.
  await db
    .insertInto('run_memories')
    .values(values)
    .onConflict((oc) => oc.column('run_id').doNothing())
    .execute();
}

export async function recordByRun(db: Executor, runId: string): Promise<RunMemoryRecord | null> {
  const r = await db.selectFrom('run_memories').selectAll().where('run_id', '=', runId).executeTakeFirst();
  return r ? recordOf(r as Row) : null;
}

/** A session's records, newest first, not older than `since`. */
export async function sessionRecords(db: Executor, sessionId: string, since: number, limit: number) {
  const rows = await db
    .selectFrom('run_memories')
    .selectAll()
    .where('session_id', '=', sessionId)
    .where('captured_at_ms', '>=', since)
    .orderBy('captured_at_ms', 'desc')
    .orderBy('seq', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => recordOf(r as Row));
}

/**
 * Records (not older than `since`) whose words hold any of `terms`, found by the full-text index;
 * those of `sessionId`, or of any session that shared one of `scopeKeys`.
 */
export async function matchingRecords(
  db: Executor,
  terms: readonly string[],
  since: number,
  where: { sessionId: string; scopeKeys: readonly string[] | null },
  limit: number,
): Promise<RunMemoryRecord[]> {
  // The terms are stems (ranking.ts): look each up as a prefix so `certificat` finds `certificates`.
  const keys = await fullTextKeys(db, RUN_MEMORIES_FULL_TEXT, terms.map(indexPrefix), 5_000, true);
  if (keys.length === 0) return [];
  const out: RunMemoryRecord[] = [];
  for (let i = 0; i < keys.length && out.length < limit; i += 500) {
    const rows = await db
      .selectFrom('run_memories')
      .selectAll()
      .where('seq', 'in', keys.slice(i, i + 500))
      .where('captured_at_ms', '>=', since)
      .execute();
    for (const r of rows) {
      const rec = recordOf(r as Row);
      const visible =
        rec.session_id === where.sessionId ||
        (where.scopeKeys !== null && rec.scope_keys.some((k) => where.scopeKeys!.includes(k)));
      if (visible) out.push(rec);
    }
  }
  return out;
}

/** Newest records of sessions sharing a scope key (recent browse under `learning_scopes`). */
export async function recentRecords(db: Executor, since: number, limit: number) {
  const rows = await db
    .selectFrom('run_memories')
    .selectAll()
    .where('captured_at_ms', '>=', since)
    .orderBy('captured_at_ms', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => recordOf(r as Row));
}

/** Deletes records older than `before`; how many. */
export async function pruneOlderThan(db: Executor, before: number): Promise<number> {
  const r = await db.deleteFrom('run_memories').where('captured_at_ms', '<', before).executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** Keeps the newest `keep` records of each session (of `sessionId` only when given); how many went. */
export async function pruneOverflow(db: Executor, keep: number, sessionId?: string): Promise<number> {
  let q = db
    .selectFrom('run_memories')
    .select(['session_id', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('session_id')
    .having((eb) => eb.fn.countAll(), '>', keep);
  if (sessionId) q = q.where('session_id', '=', sessionId);
  let deleted = 0;
  for (const { session_id } of await q.execute()) {
    const keepers = db
      .selectFrom('run_memories')
      .select('seq')
      .where('session_id', '=', session_id)
      .orderBy('captured_at_ms', 'desc')
      .orderBy('seq', 'desc')
      .limit(keep);
    const r = await db
      .deleteFrom('run_memories')
      .where('session_id', '=', session_id)
      .where(
        'seq',
        'not in',
        keep > 0 ? keepers : db.selectFrom('run_memories').select('seq').where('seq', '<', 0),
      )
      .executeTakeFirst();
    deleted += Number(r.numDeletedRows);
  }
  return deleted;
}

/** Records whose run is unknown or not terminal (a dead process's leftovers); deletes them. */
export async function pruneOrphans(db: Executor): Promise<string[]> {
  const rows = await db
    .selectFrom('run_memories as m')
    .leftJoin('runs as r', 'r.run_id', 'm.run_id')
    .select(['m.run_id', 'r.status'])
    .where((eb) =>
      eb.or([
        eb('r.run_id', 'is', null),
        eb('r.status', 'not in', ['completed', 'failed', 'interrupted', 'cancelled']),
      ]),
    )
    .execute();
  const ids = rows.map((r) => r.run_id);
  for (let i = 0; i < ids.length; i += 500)
    await db
      .deleteFrom('run_memories')
      .where('run_id', 'in', ids.slice(i, i + 500))
      .execute();
  return ids;
}

export async function countRecords(
  db: Executor,
  since: number,
): Promise<{ records: number; sessions: number; pending: number; stale: number }> {
  const r = await db
    .selectFrom('run_memories')
    .select((eb) => [
      eb.fn.countAll<number>().as('records'),
      eb.fn.count<number>('session_id').distinct().as('sessions'),
    ])
    .executeTakeFirstOrThrow();
  const p = await db
    .selectFrom('run_memories')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('semantic_capture', '=', 'pending')
    .executeTakeFirstOrThrow();
  const stale = await db
    .selectFrom('run_memories')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('captured_at_ms', '<', since)
    .executeTakeFirstOrThrow();
  return {
    records: Number(r.records),
    sessions: Number(r.sessions),
    pending: Number(p.n),
    stale: Number(stale.n),
  };
}

export async function pendingCaptures(db: Executor): Promise<RunMemoryRecord[]> {
  const rows = await db
    .selectFrom('run_memories')
    .selectAll()
    .where('semantic_capture', '=', 'pending')
    .orderBy('captured_at_ms', 'asc')
    .orderBy('seq', 'asc')
    .execute();
  return rows.map((r) => recordOf(r as Row));
}

export async function settleCapture(db: Executor, runId: string, receipt: 'completed' | 'skipped') {
  await db
    .updateTable('run_memories')
    .set({ semantic_capture: receipt })
    .where('run_id', '=', runId)
    .where('semantic_capture', '=', 'pending')
    .execute();
}
