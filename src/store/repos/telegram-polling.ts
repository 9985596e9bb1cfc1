// The Telegram poller's cursor and lease (migration 0027). The lease is a conditional update: a
// replica takes it when it is free, expired or already its own, and every cursor write is fenced
// by the owner, so a replica that lost the lease cannot move the cursor.
import type { Executor } from '../schema.ts';

/**
 * Takes or renews the lease (with `force`, regardless of its holder: a single-writer SQLite daemon
 * after a crash); returns the cursor when held, null when another replica holds it.
 */
export async function acquirePollingLease(
  db: Executor,
  connector: string,
  owner: string,
  now: number,
  ttlMs: number,
  force = false,
): Promise<number | null> {
  await db
    .insertInto('telegram_polling')
    .values({ connector, next_offset: 0, lease_owner: null, lease_expires_at_ms: null, updated_at_ms: now })
    .onConflict((oc) => oc.column('connector').doNothing())
    .execute();
  let q = db
    .updateTable('telegram_polling')
    .set({ lease_owner: owner, lease_expires_at_ms: now + ttlMs })
    .where('connector', '=', connector);
  if (!force)
    q = q.where((eb) =>
      eb.or([
        eb('lease_owner', 'is', null),
        eb('lease_owner', '=', owner),
        eb('lease_expires_at_ms', '<', now),
      ]),
    );
  const res = await q.executeTakeFirst();
  if (Number(res.numUpdatedRows) === 0) return null;
  const row = await db
    .selectFrom('telegram_polling')
    .select('next_offset')
    .where('connector', '=', connector)
    .executeTakeFirstOrThrow();
  return Number(row.next_offset);
}

/** Moves the cursor (and extends the lease) if `owner` still holds it; false when it does not. */
export async function advancePollingCursor(
  db: Executor,
  connector: string,
  owner: string,
  nextOffset: number,
  now: number,
  ttlMs: number,
): Promise<boolean> {
  const res = await db
    .updateTable('telegram_polling')
    .set({ next_offset: nextOffset, lease_expires_at_ms: now + ttlMs, updated_at_ms: now })
    .where('connector', '=', connector)
    .where('lease_owner', '=', owner)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

export async function releasePollingLease(db: Executor, connector: string, owner: string): Promise<void> {
  await db
    .updateTable('telegram_polling')
    .set({ lease_owner: null, lease_expires_at_ms: null })
    .where('connector', '=', connector)
    .where('lease_owner', '=', owner)
    .execute();
}

export async function pollingCursor(db: Executor, connector: string): Promise<number | null> {
  const row = await db
    .selectFrom('telegram_polling')
    .select('next_offset')
    .where('connector', '=', connector)
    .executeTakeFirst();
  return row ? Number(row.next_offset) : null;
}

/** A connector deleted or switched to webhooks forgets its cursor. */
export async function deletePollingCursor(db: Executor, connector: string): Promise<void> {
  await db.deleteFrom('telegram_polling').where('connector', '=', connector).execute();
}
