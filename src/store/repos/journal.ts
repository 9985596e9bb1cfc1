// The session journal: append-only conversation entries keyed (session_id, seq), and outputs.
import type { Executor } from '../schema.ts';

export interface JournalEntry {
  session_id: string;
  seq: number;
  run_id: string | null;
  kind: string;
  created_at_ms: number;
  payload: Record<string, unknown>;
}

/** Inserts entries whose seqs were handed out by the store's JournalTails (store/journal-tail.ts). */
export async function insertJournalRows(db: Executor, entries: JournalEntry[]): Promise<void> {
  await db
    .insertInto('journal')
    .values(
      entries.map((e) => ({
        session_id: e.session_id,
        seq: e.seq,
        run_id: e.run_id,
        kind: e.kind,
        created_at_ms: e.created_at_ms,
        payload: JSON.stringify(e.payload),
      })),
    )
    .execute();
}

const parse = (r: {
  session_id: string;
  seq: number;
  run_id: string | null;
  kind: string;
  created_at_ms: number;
  payload: string;
}): JournalEntry => ({
  ...r,
  seq: Number(r.seq),
  created_at_ms: Number(r.created_at_ms),
  payload: JSON.parse(r.payload),
});

/**
 * A session's context window: its latest compaction boundary and the newest `max` entries after
 * what that boundary covers, in seq order. Two indexed reads whatever the session's age.
 */
export async function readWindow(db: Executor, sessionId: string, max: number): Promise<JournalEntry[]> {
  const boundaryRow = await db
    .selectFrom('journal')
    .selectAll()
    .where('session_id', '=', sessionId)
    .where('kind', '=', 'compaction_boundary')
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  const boundary = boundaryRow ? parse(boundaryRow) : null;
  const rows = await db
    .selectFrom('journal')
    .selectAll()
    .where('session_id', '=', sessionId)
    .where('seq', '>', boundary ? Number(boundary.payload.upto_seq) : 0)
    .where('kind', '!=', 'compaction_boundary')
    .orderBy('seq', 'desc')
    .limit(max)
    .execute();
  const entries = rows.reverse().map(parse);
  if (boundary) entries.push(boundary);
  return entries.sort((a, b) => a.seq - b.seq);
}

/** Entries of a session after `afterSeq`, in seq order (what another replica appended). */
export async function journalAfter(
  db: Executor,
  sessionId: string,
  afterSeq: number,
): Promise<JournalEntry[]> {
  const rows = await db
    .selectFrom('journal')
    .selectAll()
    .where('session_id', '=', sessionId)
    .where('seq', '>', afterSeq)
    .orderBy('seq', 'asc')
    .execute();
  return rows.map(parse);
}

export async function runJournal(db: Executor, runId: string): Promise<JournalEntry[]> {
  const rows = await db
    .selectFrom('journal')
    .selectAll()
    .where('run_id', '=', runId)
    .orderBy('seq', 'asc')
    .execute();
  return rows.map(parse);
}

export async function insertOutput(
  db: Executor,
  sessionId: string,
  runId: string,
  now: number,
  record: Record<string, unknown>,
): Promise<void> {
  await db
    .insertInto('outputs')
    .values({ session_id: sessionId, run_id: runId, created_at_ms: now, record: JSON.stringify(record) })
    .execute();
}

export async function outputsOfRun(db: Executor, runId: string): Promise<Record<string, unknown>[]> {
  const rows = await db
    .selectFrom('outputs')
    .select('record')
    .where('run_id', '=', runId)
    .orderBy('id', 'asc')
    .execute();
  return rows.map((r) => JSON.parse(r.record));
}

export async function outputsOfSession(
  db: Executor,
  sessionId: string,
  limit: number,
): Promise<Record<string, unknown>[]> {
  const rows = await db
    .selectFrom('outputs')
    .select('record')
    .where('session_id', '=', sessionId)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.reverse().map((r) => JSON.parse(r.record));
}

export async function appendRunEvent(
  db: Executor,
  row: {
    run_id: string;
    session_id: string;
    agent_id: string;
    timestamp_ms: number;
    event: Record<string, unknown>;
  },
): Promise<void> {
  await db
    .insertInto('run_events')
    .values({ ...row, event: JSON.stringify(row.event) })
    .execute();
}

/** Several run events in one statement (a step's traces), listed in this order. */
export async function appendRunEvents(
  db: Executor,
  rows: Array<{
    run_id: string;
    session_id: string;
    agent_id: string;
    timestamp_ms: number;
    event: Record<string, unknown>;
  }>,
): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('run_events')
    .values(rows.map((r) => ({ ...r, event: JSON.stringify(r.event) })))
    .execute();
}

/** Persisted run events (RunEventEntry) of one run or of all runs of a session, oldest first. */
export async function runEvents(db: Executor, runId: string): Promise<Array<Record<string, unknown>>> {
  return readRunEvents(db, 'run_id', runId);
}

export async function sessionRunEvents(
  db: Executor,
  sessionId: string,
): Promise<Array<Record<string, unknown>>> {
  return readRunEvents(db, 'session_id', sessionId);
}

async function readRunEvents(
  db: Executor,
  column: 'run_id' | 'session_id',
  id: string,
): Promise<Array<Record<string, unknown>>> {
  const rows = await db
    .selectFrom('run_events')
    .selectAll()
    .where(column, '=', id)
    .orderBy('id', 'asc')
    .execute();
  return rows.map((r) => ({
    timestamp_ms: Number(r.timestamp_ms),
    run_id: r.run_id,
    session_id: r.session_id,
    agent_id: r.agent_id,
    event: JSON.parse(r.event),
  }));
}
