// Derivation records and the cache entry of each versioned key (migration 0023).
import { sql } from 'kysely';
import type { DerivationCacheTable, DerivationsTable, Executor } from '../schema.ts';

export type DerivationRow = DerivationsTable;

export interface CacheKey {
  profile: string;
  profile_version: number;
  subject_key: string;
  source_fingerprint: string;
}

const row = (r: DerivationRow): DerivationRow => ({
  ...r,
  profile_version: Number(r.profile_version),
  reused_subject_asset: Number(r.reused_subject_asset),
  created_at_ms: Number(r.created_at_ms),
});

export async function getDerivation(db: Executor, id: string): Promise<DerivationRow | undefined> {
  const r = await db.selectFrom('derivations').selectAll().where('derivation_id', '=', id).executeTakeFirst();
  return r ? row(r) : undefined;
}

/** The record the key currently answers with (the latest forced refresh, else the first attempt). */
export async function cachedDerivation(db: Executor, key: CacheKey): Promise<DerivationRow | undefined> {
  const r = await db
    .selectFrom('derivation_cache')
    .innerJoin('derivations', 'derivations.derivation_id', 'derivation_cache.derivation_id')
    .selectAll('derivations')
    .where('derivation_cache.profile', '=', key.profile)
    .where('derivation_cache.profile_version', '=', key.profile_version)
    .where('derivation_cache.subject_key', '=', key.subject_key)
    .where('derivation_cache.source_fingerprint', '=', key.source_fingerprint)
    .executeTakeFirst();
  return r ? row(r as DerivationRow) : undefined;
}

export async function insertDerivation(db: Executor, r: DerivationRow): Promise<void> {
  await db.insertInto('derivations').values(r).execute();
}

/** Points the key at `derivation_id` (insert, or move an existing entry). */
export async function setCacheEntry(db: Executor, entry: DerivationCacheTable): Promise<void> {
  await db
    .insertInto('derivation_cache')
    .values(entry)
    .onConflict((oc) =>
      oc
        .columns(['profile', 'profile_version', 'subject_key', 'source_fingerprint'])
        .doUpdateSet({ derivation_id: entry.derivation_id, updated_at_ms: entry.updated_at_ms }),
    )
    .execute();
}

export async function markDerivationFailed(db: Executor, id: string, error: string): Promise<void> {
  await db
    .updateTable('derivations')
    .set({ status: 'failed', error, result_asset_id: null })
    .where('derivation_id', '=', id)
    .execute();
}

/** Completed records with a result asset, in id order (the startup check of their results). */
export async function completedWithResults(
  db: Executor,
  after: string | undefined,
  limit: number,
): Promise<Array<{ derivation_id: string; result_asset_id: string }>> {
  let q = db
    .selectFrom('derivations')
    .select(['derivation_id', 'result_asset_id'])
    .where('status', '=', 'completed')
    .where('result_asset_id', 'is not', null)
    .orderBy('derivation_id', 'asc')
    .limit(limit);
  if (after !== undefined) q = q.where('derivation_id', '>', after);
  return (await q.execute()) as Array<{ derivation_id: string; result_asset_id: string }>;
}

/** `\`, `%` and `_` taken literally in a LIKE pattern (ESCAPE '\' works on SQLite and PostgreSQL). */
const likeLiteral = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * Records in `derivation_id` order; `query` is a case-insensitive substring of the id, profile,
 * subject JSON, result asset id, source fingerprint, status or error text.
 */
export async function listDerivations(
  db: Executor,
  f: { query?: string; after?: string; limit?: number },
): Promise<{ rows: DerivationRow[]; total: number }> {
  let base = db.selectFrom('derivations');
  if (f.query !== undefined && f.query !== '') {
    const pattern = `%${likeLiteral(f.query.toLowerCase())}%`;
    const haystack = sql<string>`lower(derivation_id || ' ' || profile || ' ' || subject || ' ' || coalesce(result_asset_id, '') || ' ' || source_fingerprint || ' ' || status || ' ' || coalesce(error, ''))`;
    base = base.where(sql<boolean>`${haystack} like ${pattern} escape '\\'`);
  }
  const counted = await base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
  let q = base.selectAll().orderBy('derivation_id', 'asc');
  if (f.after !== undefined) q = q.where('derivation_id', '>', f.after);
  if (f.limit !== undefined) q = q.limit(f.limit);
  return { rows: (await q.execute()).map(row), total: Number(counted?.n ?? 0) };
}

/** The `input_received` journal entries of a session in order (their stored requests). */
export async function sessionInputs(
  db: Executor,
  sessionId: string,
): Promise<Array<{ seq: number; request: Record<string, unknown> }>> {
  const rows = await db
    .selectFrom('journal')
    .select(['seq', 'payload'])
    .where('session_id', '=', sessionId)
    .where('kind', '=', 'input_received')
    .orderBy('seq', 'asc')
    .execute();
  return rows.map((r) => {
    const payload = JSON.parse(r.payload) as { request?: Record<string, unknown> };
    return { seq: Number(r.seq), request: payload.request ?? {} };
  });
}
