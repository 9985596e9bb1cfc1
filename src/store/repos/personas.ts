// Persona records (migration 0019): one row per persona, its version bumped by every update.
import type { Executor, PersonasTable } from '../schema.ts';

export type PersonaRow = PersonasTable;

const normalize = (r: PersonaRow): PersonaRow => ({
  ...r,
  version: Number(r.version),
  created_at_ms: Number(r.created_at_ms),
  updated_at_ms: Number(r.updated_at_ms),
});

export async function getPersona(db: Executor, id: string): Promise<PersonaRow | undefined> {
  const r = await db.selectFrom('personas').selectAll().where('persona_id', '=', id).executeTakeFirst();
  return r && normalize(r);
}

/** Inserts unless the id is taken; false when it was (the caller answers 409). */
export async function insertPersona(db: Executor, row: PersonaRow): Promise<boolean> {
  const res = await db
    .insertInto('personas')
    .values(row)
    .onConflict((oc) => oc.column('persona_id').doNothing())
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
}

export async function updatePersona(db: Executor, id: string, patch: Partial<PersonaRow>): Promise<void> {
  await db.updateTable('personas').set(patch).where('persona_id', '=', id).execute();
}

export async function deletePersona(db: Executor, id: string): Promise<boolean> {
  const res = await db.deleteFrom('personas').where('persona_id', '=', id).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

/**
 * Personas are operator-authored templates (tens, not millions): the substring filter runs here,
 * the same on both dialects (SQLite's LIKE has no default escape character).
 */
export async function listPersonas(
  db: Executor,
  q: { query?: string; after_id?: string; limit: number },
): Promise<{ rows: PersonaRow[]; total: number }> {
  // Sorted here too, so the order and the cursor comparison agree whatever the SQL collation.
  const all = (await db.selectFrom('personas').selectAll().execute())
    .map(normalize)
    .sort((a, b) => (a.persona_id < b.persona_id ? -1 : a.persona_id > b.persona_id ? 1 : 0));
  const needle = q.query?.toLowerCase();
  const matching = needle
    ? all.filter(
        (r) => r.persona_id.toLowerCase().includes(needle) || r.display_name.toLowerCase().includes(needle),
      )
    : all;
  const after = q.after_id;
  const rows = (after === undefined ? matching : matching.filter((r) => r.persona_id > after)).slice(
    0,
    q.limit,
  );
  return { rows, total: matching.length };
}
