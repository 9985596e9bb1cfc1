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

export async function appendJournal(
  db: Executor,
  sessionId: string,
  runId: string | null,
  now: number,
  entries: Array<{ kind: string; payload: Record<string, unknown> }>,
): Promise<void> {
  if (entries.length === 0) return;
  const r = await db
    .selectFrom('journal')
    .select((eb) => eb.fn.max('seq').as('max'))
    .where('session_id', '=', sessionId)
    .executeTakeFirst();
  let seq = Number(r?.max ?? 0);
  await db
    .insertInto('journal')
    .values(
      entries.map((e) => ({
        session_id: sessionId,
        seq: ++seq,
        run_id: runId,
        kind: e.kind,
        created_at_ms: now,
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

export async function sessionJournal(db: Executor, sessionId: string): Promise<JournalEntry[]> {
  const rows = await db
    .selectFrom('journal')
    .selectAll()
    .where('session_id', '=', sessionId)
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
