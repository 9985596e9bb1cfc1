// Rows of the secret store. Values arrive here already sealed; this file never sees plaintext.
import type { AuthKeyCheckTable, AuthSlotsTable, Executor } from '../schema.ts';

export type AuthSlotRow = AuthSlotsTable;
export type KeyCheckRow = AuthKeyCheckTable;

const KEY_CHECK_ID = 'master';

export function listSlotRows(db: Executor): Promise<AuthSlotRow[]> {
  return db.selectFrom('auth_slots').selectAll().orderBy('slot_id').execute();
}

export function getSlotRow(db: Executor, slotId: string): Promise<AuthSlotRow | undefined> {
  return db.selectFrom('auth_slots').selectAll().where('slot_id', '=', slotId).executeTakeFirst();
}

export async function countSlotRows(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('auth_slots')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Insert or replace; a rotation keeps the slot's original created_at_ms. */
export async function upsertSlotRow(db: Executor, row: AuthSlotRow): Promise<void> {
  await db
    .insertInto('auth_slots')
    .values(row)
    .onConflict((oc) =>
      oc.column('slot_id').doUpdateSet({
        provider: row.provider,
        mode: row.mode,
        summary: row.summary,
        details: row.details,
        envelope: row.envelope,
        key_id: row.key_id,
        source: row.source,
        updated_at_ms: row.updated_at_ms,
      }),
    )
    .execute();
}

export async function deleteSlotRow(db: Executor, slotId: string): Promise<boolean> {
  const res = await db.deleteFrom('auth_slots').where('slot_id', '=', slotId).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

export function getKeyCheck(db: Executor): Promise<KeyCheckRow | undefined> {
  return db.selectFrom('auth_key_check').selectAll().where('id', '=', KEY_CHECK_ID).executeTakeFirst();
}

export async function putKeyCheck(
  db: Executor,
  check: { key_id: string; envelope: string; created_at_ms: number },
): Promise<void> {
  const row = { id: KEY_CHECK_ID, ...check };
  await db
    .insertInto('auth_key_check')
    .values(row)
    .onConflict((oc) => oc.column('id').doUpdateSet(check))
    .execute();
}
