// Observation sources, observations and the observation audit log (migration 0022). Bigint columns
// come back as strings on PostgreSQL: every row is normalized to numbers here.
import type {
  Executor,
  ObservationAuditTable,
  ObservationSourcesTable,
  ObservationsTable,
} from '../schema.ts';

export type SourceRow = ObservationSourcesTable;
export type ObservationRow = ObservationsTable;
export type AuditRow = Omit<ObservationAuditTable, 'id'> & { id: number };

const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export function normalizeSource(r: SourceRow): SourceRow {
  return {
    ...r,
    retention_seconds: num(r.retention_seconds),
    max_active_observations: num(r.max_active_observations),
    max_active_bytes: num(r.max_active_bytes),
    ingest_rate_limit_window_ms: num(r.ingest_rate_limit_window_ms),
    ingest_rate_limit_burst: num(r.ingest_rate_limit_burst),
    purge_raw_on_retention: num(r.purge_raw_on_retention),
    allow_materialization: num(r.allow_materialization),
    allow_output_delivery: num(r.allow_output_delivery),
    upload_token_version: num(r.upload_token_version),
    token_issued_at_ms: numOrNull(r.token_issued_at_ms),
    token_expires_at_ms: numOrNull(r.token_expires_at_ms),
    previous_token_valid_until_ms: numOrNull(r.previous_token_valid_until_ms),
    token_revoked_at_ms: numOrNull(r.token_revoked_at_ms),
    disabled_at_ms: numOrNull(r.disabled_at_ms),
    created_at_ms: num(r.created_at_ms),
    updated_at_ms: num(r.updated_at_ms),
  };
}

export function normalizeObservation(r: ObservationRow): ObservationRow {
  return {
    ...r,
    byte_length: num(r.byte_length),
    captured_at_ms: num(r.captured_at_ms),
    received_at_ms: num(r.received_at_ms),
    seq_no: numOrNull(r.seq_no),
    purged_at_ms: numOrNull(r.purged_at_ms),
  };
}

// ------------------------------------------------------------------ sources

/**
 * The source row; with `lock` on PostgreSQL the row is locked until the transaction ends, which
 * serializes uploads to one source across replicas (rate limit, idempotency, budgets).
 */
export async function getSource(
  db: Executor,
  id: string,
  opts: { lock?: boolean; postgres?: boolean } = {},
): Promise<SourceRow | undefined> {
  let q = db.selectFrom('observation_sources').selectAll().where('source_id', '=', id);
  if (opts.lock && opts.postgres) q = q.forUpdate();
  const r = await q.executeTakeFirst();
  return r && normalizeSource(r);
}

export async function insertSource(db: Executor, row: SourceRow): Promise<void> {
  await db.insertInto('observation_sources').values(row).execute();
}

export async function updateSource(db: Executor, id: string, patch: Partial<SourceRow>): Promise<void> {
  await db.updateTable('observation_sources').set(patch).where('source_id', '=', id).execute();
}

/** Sources are operator-made (tens to hundreds): the substring filter runs here, the same on both dialects. */
export async function listSources(db: Executor, query?: string): Promise<SourceRow[]> {
  const all = (await db.selectFrom('observation_sources').selectAll().execute())
    .map(normalizeSource)
    .sort((a, b) => (a.source_id < b.source_id ? -1 : a.source_id > b.source_id ? 1 : 0));
  const needle = query?.toLowerCase();
  return needle
    ? all.filter(
        (r) => r.source_id.toLowerCase().includes(needle) || r.display_name.toLowerCase().includes(needle),
      )
    : all;
}

// ------------------------------------------------------------------ observations

export async function getObservation(db: Executor, id: string): Promise<ObservationRow | undefined> {
  const r = await db
    .selectFrom('observations')
    .selectAll()
    .where('observation_id', '=', id)
    .executeTakeFirst();
  return r && normalizeObservation(r);
}

export async function findByIdempotency(
  db: Executor,
  sourceId: string,
  key: string,
): Promise<ObservationRow | undefined> {
  const r = await db
    .selectFrom('observations')
    .selectAll()
    .where('source_id', '=', sourceId)
    .where('idempotency_key', '=', key)
    .executeTakeFirst();
  return r && normalizeObservation(r);
}

export async function insertObservation(db: Executor, row: ObservationRow): Promise<void> {
  await db.insertInto('observations').values(row).execute();
}

/** Accepted (non-replay) uploads of a source received at or after `sinceMs`, oldest first. */
export async function receivedSince(db: Executor, sourceId: string, sinceMs: number): Promise<number[]> {
  const rows = await db
    .selectFrom('observations')
    .select('received_at_ms')
    .where('source_id', '=', sourceId)
    .where('received_at_ms', '>=', sinceMs)
    .orderBy('received_at_ms', 'asc')
    .execute();
  return rows.map((r) => num(r.received_at_ms));
}

/** How many active observations a source holds and their bytes (budget check before any row is read). */
export async function activeTotals(
  db: Executor,
  sourceId: string,
): Promise<{ count: number; bytes: number }> {
  const r = await db
    .selectFrom('observations')
    .select((eb) => [eb.fn.countAll().as('n'), eb.fn.sum('byte_length').as('b')])
    .where('source_id', '=', sourceId)
    .where('retention_state', '=', 'active')
    .executeTakeFirst();
  return { count: num(r?.n ?? 0), bytes: num(r?.b ?? 0) };
}

/** The active observations of a source, oldest first (budget enforcement). */
export async function activeOfSource(db: Executor, sourceId: string): Promise<ObservationRow[]> {
  const rows = await db
    .selectFrom('observations')
    .selectAll()
    .where('source_id', '=', sourceId)
    .where('retention_state', '=', 'active')
    .orderBy('received_at_ms', 'asc')
    .orderBy('observation_id', 'asc')
    .execute();
  return rows.map(normalizeObservation);
}

/** Marks one active observation purged; false when it was not active any more (another replica won). */
export async function markPurged(db: Executor, id: string, now: number, reason: string): Promise<boolean> {
  const res = await db
    .updateTable('observations')
    .set({ retention_state: 'purged', purged_at_ms: now, purge_reason: reason })
    .where('observation_id', '=', id)
    .where('retention_state', '=', 'active')
    .executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

export async function setCanonicalTextAsset(db: Executor, id: string, assetId: string): Promise<boolean> {
  const res = await db
    .updateTable('observations')
    .set({ canonical_text_asset_id: assetId })
    .where('observation_id', '=', id)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

/** Active observations past their source's retention, oldest first (bounded batch). */
export async function expiredObservations(
  db: Executor,
  now: number,
  limit: number,
): Promise<ObservationRow[]> {
  const rows = await db
    .selectFrom('observations')
    .innerJoin('observation_sources', 'observation_sources.source_id', 'observations.source_id')
    .selectAll('observations')
    .where('observations.retention_state', '=', 'active')
    .where((eb) =>
      eb(
        'observations.received_at_ms',
        '<=',
        eb(eb.val(now), '-', eb('observation_sources.retention_seconds', '*', eb.val(1000))),
      ),
    )
    .orderBy('observations.received_at_ms', 'asc')
    .limit(limit)
    .execute();
  return rows.map(normalizeObservation);
}

export interface ObservationFilter {
  source_id?: string;
  stream_id?: string;
  capture_group_id?: string;
  after_ms?: number;
  before_ms?: number;
  include_purged?: boolean;
  /** Keyset cursor: (received_at_ms, observation_id) of the last row seen. */
  after_key?: { received_at_ms: number; observation_id: string };
  order: 'asc' | 'desc';
  limit: number;
}

/** Filtered observations by receive time (then id); `total` counts every match. */
export async function listObservations(
  db: Executor,
  f: ObservationFilter,
): Promise<{ rows: ObservationRow[]; total: number }> {
  let q = db.selectFrom('observations');
  if (f.source_id !== undefined) q = q.where('source_id', '=', f.source_id);
  if (f.stream_id !== undefined) q = q.where('stream_id', '=', f.stream_id);
  if (f.capture_group_id !== undefined) q = q.where('capture_group_id', '=', f.capture_group_id);
  if (f.after_ms !== undefined) q = q.where('received_at_ms', '>=', f.after_ms);
  if (f.before_ms !== undefined) q = q.where('received_at_ms', '<', f.before_ms);
  if (!f.include_purged) q = q.where('retention_state', '=', 'active');
  const total = num((await q.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst())?.n ?? 0);
  let page = q.selectAll();
  const k = f.after_key;
  if (k) {
    const cmp = f.order === 'asc' ? '>' : '<';
    page = page.where((eb) =>
      eb.or([
        eb('received_at_ms', cmp, k.received_at_ms),
        eb.and([eb('received_at_ms', '=', k.received_at_ms), eb('observation_id', cmp, k.observation_id)]),
      ]),
    );
  }
  const rows = await page
    .orderBy('received_at_ms', f.order)
    .orderBy('observation_id', f.order)
    .limit(f.limit)
    .execute();
  return { rows: rows.map(normalizeObservation), total };
}

// ------------------------------------------------------------------ audit

export async function appendAudit(
  db: Executor,
  at: number,
  records: Array<{
    event: string;
    source_id?: string | null;
    machine_id?: string | null;
    observation_id?: string | null;
    detail?: Record<string, unknown>;
  }>,
): Promise<void> {
  if (records.length === 0) return;
  await db
    .insertInto('observation_audit')
    .values(
      records.map((r) => ({
        at_ms: at,
        event: r.event,
        source_id: r.source_id ?? null,
        machine_id: r.machine_id ?? null,
        observation_id: r.observation_id ?? null,
        detail: JSON.stringify(r.detail ?? {}),
      })),
    )
    .execute();
}

/** Newest first. */
export async function listAudit(
  db: Executor,
  f: { source_id?: string; event?: string; machine_id?: string; limit: number },
): Promise<AuditRow[]> {
  let q = db.selectFrom('observation_audit').selectAll();
  if (f.source_id !== undefined) q = q.where('source_id', '=', f.source_id);
  if (f.event !== undefined) q = q.where('event', '=', f.event);
  if (f.machine_id !== undefined) q = q.where('machine_id', '=', f.machine_id);
  const rows = await q.orderBy('id', 'desc').limit(f.limit).execute();
  return rows.map((r) => ({ ...r, id: num(r.id), at_ms: num(r.at_ms) }));
}
