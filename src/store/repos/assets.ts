// The asset catalog, its reference graph and tombstones (migration 0021): the only SQL about them.
// Rules (dedupe, what blocks a delete, what GC may take) belong to src/features/assets.
import { sql } from 'kysely';
import { dialectOf } from '../dialect.ts';
import type { AssetReferencesTable, AssetsTable, AssetTombstonesTable, Executor } from '../schema.ts';
import { TERMINAL_STATUSES } from './runs.ts';

export type AssetRow = AssetsTable;
export type AssetReferenceRow = AssetReferencesTable;
export type AssetTombstoneRow = AssetTombstonesTable;

const num = (v: number | null): number | null => (v === null ? null : Number(v));

const normalize = (r: AssetRow): AssetRow => ({
  ...r,
  byte_length: Number(r.byte_length),
  created_at_ms: Number(r.created_at_ms),
  text_byte_length: num(r.text_byte_length),
  preview_byte_length: num(r.preview_byte_length),
});

const isPostgres = (db: Executor): boolean => dialectOf(db) === 'postgres';

export async function getAsset(db: Executor, id: string): Promise<AssetRow | undefined> {
  const r = await db.selectFrom('assets').selectAll().where('asset_id', '=', id).executeTakeFirst();
  return r && normalize(r);
}

/**
 * The row, locked until the transaction ends on PostgreSQL: `forDelete` against a concurrent
 * reference (which takes the shared lock), or shared so a delete cannot slip between a reference
 * check and its insert. SQLite serializes every write, so it needs neither.
 */
export async function lockAsset(
  db: Executor,
  id: string,
  mode: 'share' | 'update',
): Promise<AssetRow | undefined> {
  let q = db.selectFrom('assets').selectAll().where('asset_id', '=', id);
  if (isPostgres(db)) q = mode === 'update' ? q.forUpdate() : q.forShare();
  const r = await q.executeTakeFirst();
  return r && normalize(r);
}

export async function findAssetByDigest(
  db: Executor,
  mediaType: string,
  sha256: string,
): Promise<AssetRow | undefined> {
  const r = await db
    .selectFrom('assets')
    .selectAll()
    .where('media_type', '=', mediaType)
    .where('sha256', '=', sha256)
    .executeTakeFirst();
  return r && normalize(r);
}

/** Inserts unless an asset with the same media type and digest exists; false when it did. */
export async function insertAsset(db: Executor, row: AssetRow): Promise<boolean> {
  const res = await db
    .insertInto('assets')
    .values(row)
    .onConflict((oc) => oc.columns(['media_type', 'sha256']).doNothing())
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
}

export async function setAssetText(db: Executor, id: string, sha256: string, length: number): Promise<void> {
  await db
    .updateTable('assets')
    .set({ text_sha256: sha256, text_byte_length: length })
    .where('asset_id', '=', id)
    .execute();
}

export async function deleteAssetRow(db: Executor, id: string): Promise<boolean> {
  const res = await db.deleteFrom('assets').where('asset_id', '=', id).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

export async function allAssets(db: Executor): Promise<AssetRow[]> {
  const rows = await db.selectFrom('assets').selectAll().orderBy('asset_id').execute();
  return rows.map(normalize);
}

const escapeLike = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * A page of assets by id (ids grow with time), with an optional case-insensitive substring
 * filter over the id, file name, media type, digest and the derivations whose result it is.
 */
export async function listAssets(
  db: Executor,
  q: { query?: string; after_id?: string; limit: number },
): Promise<{ rows: AssetRow[]; total: number }> {
  let base = db.selectFrom('assets');
  if (q.query) {
    const like = `%${escapeLike(q.query.toLowerCase())}%`;
    const has = (col: string) => sql<boolean>`lower(${sql.ref(col)}) like ${like} escape '\\'`;
    base = base.where((eb) =>
      eb.or([
        has('assets.asset_id'),
        has('assets.file_name'),
        has('assets.media_type'),
        has('assets.sha256'),
        eb.exists(
          eb
            .selectFrom('asset_references as r')
            .select('r.owner_id')
            .whereRef('r.asset_id', '=', 'assets.asset_id')
            .where('r.domain', '=', 'derivations')
            .where('r.role', '=', 'result')
            .where(has('r.owner_id')),
        ),
      ]),
    );
  }
  const total = Number(
    (await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n,
  );
  let page = base.selectAll('assets');
  if (q.after_id !== undefined) page = page.where('assets.asset_id', '>', q.after_id);
  const rows = await page.orderBy('assets.asset_id').limit(q.limit).execute();
  return { rows: rows.map(normalize), total };
}

/** Whether any asset row names this payload (as raw bytes, derived text or preview). */
export async function payloadInUse(db: Executor, sha256: string, exceptAssetId?: string): Promise<boolean> {
  let q = db
    .selectFrom('assets')
    .select('asset_id')
    .where((eb) =>
      eb.or([eb('sha256', '=', sha256), eb('text_sha256', '=', sha256), eb('preview_sha256', '=', sha256)]),
    );
  if (exceptAssetId !== undefined) q = q.where('asset_id', '!=', exceptAssetId);
  return (await q.limit(1).executeTakeFirst()) !== undefined;
}

/**
 * Serializes work on these payload digests across replicas until the transaction ends
 * (PostgreSQL advisory locks, taken in sorted order). SQLite has one writer: nothing to do.
 */
export async function lockPayloads(db: Executor, digests: string[]): Promise<void> {
  if (!isPostgres(db)) return;
  for (const d of [...new Set(digests)].sort())
    await sql`select pg_advisory_xact_lock(hashtextextended(${`asset-payload:${d}`}, 0))`.execute(db);
}

// ------------------------------------------------------------------ references

const refOf = (r: AssetReferenceRow): AssetReferenceRow => ({
  ...r,
  hard: Number(r.hard),
  created_at_ms: Number(r.created_at_ms),
});

export async function upsertReferences(db: Executor, rows: AssetReferenceRow[]): Promise<void> {
  for (const row of rows)
    await db
      .insertInto('asset_references')
      .values(row)
      .onConflict((oc) =>
        oc
          .columns(['asset_id', 'domain', 'owner_id', 'role'])
          .doUpdateSet({ hard: row.hard, parent_id: row.parent_id, detail_id: row.detail_id }),
      )
      .execute();
}

export async function referencesOf(db: Executor, assetId: string): Promise<AssetReferenceRow[]> {
  const rows = await db
    .selectFrom('asset_references')
    .selectAll()
    .where('asset_id', '=', assetId)
    .orderBy('domain')
    .orderBy('owner_id')
    .orderBy('role')
    .execute();
  return rows.map(refOf);
}

export async function hardReferenceCounts(db: Executor): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('asset_references')
    .select(['asset_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('hard', '=', 1)
    .groupBy('asset_id')
    .execute();
  return new Map(rows.map((r) => [r.asset_id, Number(r.n)]));
}

interface OwnerMatch {
  domain: string;
  owner_id: string;
  role?: string;
}

export async function setReferencesHard(
  db: Executor,
  m: OwnerMatch,
  hard: boolean,
  detailId: string | null | undefined,
): Promise<void> {
  let q = db
    .updateTable('asset_references')
    .set(detailId === undefined ? { hard: hard ? 1 : 0 } : { hard: hard ? 1 : 0, detail_id: detailId })
    .where('domain', '=', m.domain)
    .where('owner_id', '=', m.owner_id);
  if (m.role !== undefined) q = q.where('role', '=', m.role);
  await q.execute();
}

export async function deleteReferences(db: Executor, m: OwnerMatch): Promise<number> {
  let q = db.deleteFrom('asset_references').where('domain', '=', m.domain).where('owner_id', '=', m.owner_id);
  if (m.role !== undefined) q = q.where('role', '=', m.role);
  return Number((await q.executeTakeFirst()).numDeletedRows);
}

/** Drops the references of several owners of one domain (a prune of many runs). */
export async function deleteOwnersReferences(
  db: Executor,
  domain: string,
  ownerIds: string[],
): Promise<number> {
  if (!ownerIds.length) return 0;
  const res = await db
    .deleteFrom('asset_references')
    .where('domain', '=', domain)
    .where('owner_id', 'in', ownerIds)
    .executeTakeFirst();
  return Number(res.numDeletedRows);
}

/**
 * Terminal runs finished before the cutoff that hold `runs` references, oldest first (the runs a
 * prune with `release_assets` lets go of their assets).
 */
export async function terminalRunsHoldingAssets(
  db: Executor,
  q: { cutoffMs: number; sessionId?: string; limit?: number },
): Promise<Array<{ run_id: string; reference_count: number }>> {
  let sel = db
    .selectFrom('asset_references as a')
    .innerJoin('runs as r', 'r.run_id', 'a.owner_id')
    .select(['r.run_id as run_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('a.domain', '=', 'runs')
    .where('r.status', 'in', [...TERMINAL_STATUSES])
    .where('r.finished_at_ms', '<', q.cutoffMs)
    .groupBy(['r.run_id', 'r.finished_at_ms']);
  if (q.sessionId !== undefined) sel = sel.where('r.session_id', '=', q.sessionId);
  let ordered = sel.orderBy('r.finished_at_ms').orderBy('r.run_id');
  if (q.limit !== undefined) ordered = ordered.limit(q.limit);
  return (await ordered.execute()).map((r) => ({ run_id: r.run_id, reference_count: Number(r.n) }));
}

export async function deleteAssetReferences(db: Executor, assetId: string): Promise<void> {
  await db.deleteFrom('asset_references').where('asset_id', '=', assetId).execute();
}

// ------------------------------------------------------------------ tombstones

export async function insertTombstone(db: Executor, row: AssetTombstoneRow): Promise<void> {
  await db
    .insertInto('asset_tombstones')
    .values(row)
    .onConflict((oc) => oc.column('asset_id').doNothing())
    .execute();
}

export async function isTombstoned(db: Executor, id: string): Promise<boolean> {
  const r = await db
    .selectFrom('asset_tombstones')
    .select('asset_id')
    .where('asset_id', '=', id)
    .executeTakeFirst();
  return r !== undefined;
}

/** Deletes whose payload removal a crash interrupted. */
export async function pendingTombstones(db: Executor): Promise<AssetTombstoneRow[]> {
  const rows = await db
    .selectFrom('asset_tombstones')
    .selectAll()
    .where('pending_digests', 'is not', null)
    .execute();
  return rows.map((r) => ({
    ...r,
    byte_length: Number(r.byte_length),
    deleted_at_ms: Number(r.deleted_at_ms),
  }));
}

export async function clearTombstonePending(db: Executor, id: string): Promise<void> {
  await db
    .updateTable('asset_tombstones')
    .set({ pending_digests: null })
    .where('asset_id', '=', id)
    .execute();
}

// ------------------------------------------------------------------ payloads in the database

export async function insertPayload(
  db: Executor,
  sha256: string,
  data: Uint8Array,
  now: number,
): Promise<void> {
  await db
    .insertInto('asset_payloads')
    .values({ sha256, byte_length: data.byteLength, created_at_ms: now, data: Buffer.from(data) })
    // Rewritten even when present, like a file staged again: an identical import repairs a payload
    // changed behind the daemon's back.
    .onConflict((oc) =>
      oc.column('sha256').doUpdateSet((eb) => ({
        data: eb.ref('excluded.data'),
        byte_length: eb.ref('excluded.byte_length'),
      })),
    )
    .execute();
}

export async function readPayload(db: Executor, sha256: string): Promise<Buffer | undefined> {
  const r = await db
    .selectFrom('asset_payloads')
    .select('data')
    .where('sha256', '=', sha256)
    .executeTakeFirst();
  return r && Buffer.from(r.data);
}

export async function deletePayload(db: Executor, sha256: string): Promise<number> {
  const r = await db
    .deleteFrom('asset_payloads')
    .where('sha256', '=', sha256)
    .returning('byte_length')
    .executeTakeFirst();
  return r ? Number(r.byte_length) : 0;
}

/** Every stored payload's digest and size (the data column is not read). */
export async function listPayloads(db: Executor): Promise<Array<{ sha256: string; byte_length: number }>> {
  const rows = await db.selectFrom('asset_payloads').select(['sha256', 'byte_length']).execute();
  return rows.map((r) => ({ sha256: r.sha256, byte_length: Number(r.byte_length) }));
}
