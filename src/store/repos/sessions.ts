// Session rows.
import type { Executor, SessionsTable } from '../schema.ts';
import { readCounters } from './counters.ts';

export type SessionRow = SessionsTable;

const normalize = (r: SessionRow): SessionRow => ({
  ...r,
  created_at_ms: Number(r.created_at_ms),
  updated_at_ms: Number(r.updated_at_ms),
  ended_at_ms: r.ended_at_ms === null ? null : Number(r.ended_at_ms),
});

export async function getSession(db: Executor, id: string): Promise<SessionRow | undefined> {
  const r = await db.selectFrom('sessions').selectAll().where('session_id', '=', id).executeTakeFirst();
  return r && normalize(r);
}

export async function insertSession(db: Executor, row: SessionRow): Promise<void> {
  await db.insertInto('sessions').values(row).execute();
}

export async function updateSession(db: Executor, id: string, patch: Partial<SessionRow>): Promise<void> {
  await db.updateTable('sessions').set(patch).where('session_id', '=', id).execute();
}

export async function listSessions(
  db: Executor,
  q: { after_id?: string; limit: number; persona_id?: string },
): Promise<{ rows: SessionRow[]; total: number }> {
  // Sessions of closed child agents (close_on_settle) are hidden here, still readable by id.
  let visible = db
    .selectFrom('sessions')
    .where(
      'session_id',
      'not in',
      db.selectFrom('agents').select('session_id').where('closed_at_ms', 'is not', null),
    );
  // By the bound snapshot's persona (api-core §9), not the record's current state.
  if (q.persona_id !== undefined) visible = visible.where('persona_id', '=', q.persona_id);
  const totalRow = await visible.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
  let sel = visible.selectAll();
  if (q.after_id !== undefined) sel = sel.where('session_id', '>', q.after_id);
  const rows = await sel.orderBy('session_id', 'asc').limit(q.limit).execute();
  return { rows: rows.map(normalize), total: Number(totalRow?.n ?? 0) };
}

/** All sessions, ended ones, and primary ones (no child agent's), from the counters (migration 0011). */
export async function countSessions(
  db: Executor,
): Promise<{ total: number; ended: number; primary: number }> {
  const c = await readCounters(db, 'sessions:');
  return { total: c.get('total') ?? 0, ended: c.get('ended') ?? 0, primary: c.get('primary') ?? 0 };
}
