// The run debug store's SQL (migration 0018). Budgets, levels and encryption are the debug
// feature's; these functions only read and move rows.
import type { DebugArtifactsTable, DebugBundlesTable, Executor } from '../schema.ts';
import { readCounters } from './counters.ts';
import { TERMINAL_STATUSES } from './runs.ts';

export type DebugArtifactSummary = Omit<DebugArtifactsTable, 'body' | 'run_id'>;
export type DebugBundleRow = DebugBundlesTable;

const num = (v: unknown): number => Number(v);

function bundleOf(r: DebugBundlesTable): DebugBundleRow {
  return {
    ...r,
    created_at_ms: num(r.created_at_ms),
    updated_at_ms: num(r.updated_at_ms),
    artifact_count: num(r.artifact_count),
    bytes: num(r.bytes),
    plaintext_bytes: num(r.plaintext_bytes),
  };
}

export async function getDebugBundle(db: Executor, runId: string): Promise<DebugBundleRow | undefined> {
  const r = await db.selectFrom('debug_bundles').selectAll().where('run_id', '=', runId).executeTakeFirst();
  return r && bundleOf(r);
}

/** The summaries of a run's artifacts, oldest first (no body is read). */
export async function listDebugArtifacts(db: Executor, runId: string): Promise<DebugArtifactSummary[]> {
  const rows = await db
    .selectFrom('debug_artifacts')
    .select([
      'artifact_id',
      'format',
      'level',
      'updated_at_ms',
      'bytes',
      'plaintext_bytes',
      'sha256',
      'truncated',
      'original_bytes',
      'encrypted',
      'key_id',
    ])
    .where('run_id', '=', runId)
    .orderBy('updated_at_ms', 'asc')
    .orderBy('artifact_id', 'asc')
    .execute();
  return rows.map((r) => ({
    ...r,
    updated_at_ms: num(r.updated_at_ms),
    bytes: num(r.bytes),
    plaintext_bytes: num(r.plaintext_bytes),
    truncated: num(r.truncated),
    original_bytes: r.original_bytes === null ? null : num(r.original_bytes),
    encrypted: num(r.encrypted),
  }));
}

export async function getDebugArtifact(
  db: Executor,
  runId: string,
  artifactId: string,
): Promise<DebugArtifactsTable | undefined> {
  const r = await db
    .selectFrom('debug_artifacts')
    .selectAll()
    .where('run_id', '=', runId)
    .where('artifact_id', '=', artifactId)
    .executeTakeFirst();
  return r && { ...r, body: Buffer.from(r.body), encrypted: num(r.encrypted), truncated: num(r.truncated) };
}

export async function debugArtifactExists(db: Executor, runId: string, artifactId: string): Promise<boolean> {
  const r = await db
    .selectFrom('debug_artifacts')
    .select('artifact_id')
    .where('run_id', '=', runId)
    .where('artifact_id', '=', artifactId)
    .executeTakeFirst();
  return r !== undefined;
}

/** Inserts one artifact and creates or grows its run's bundle row (call inside one transaction). */
export async function insertDebugArtifact(
  db: Executor,
  artifact: DebugArtifactsTable,
  bundle: { session_id: string; level: string },
): Promise<void> {
  await db.insertInto('debug_artifacts').values(artifact).execute();
  const existing = await getDebugBundle(db, artifact.run_id);
  if (!existing) {
    await db
      .insertInto('debug_bundles')
      .values({
        run_id: artifact.run_id,
        session_id: bundle.session_id,
        level: bundle.level,
        created_at_ms: artifact.updated_at_ms,
        updated_at_ms: artifact.updated_at_ms,
        artifact_count: 1,
        bytes: artifact.bytes,
        plaintext_bytes: artifact.plaintext_bytes,
      })
      .execute();
    return;
  }
  await db
    .updateTable('debug_bundles')
    .set({
      level: bundle.level,
      updated_at_ms: artifact.updated_at_ms,
      artifact_count: existing.artifact_count + 1,
      bytes: existing.bytes + artifact.bytes,
      plaintext_bytes: existing.plaintext_bytes + artifact.plaintext_bytes,
    })
    .where('run_id', '=', artifact.run_id)
    .execute();
}

/** Totals of the whole store, from the counters the migration's triggers keep. */
export async function debugStoreTotals(
  db: Executor,
): Promise<{ bundles: number; artifacts: number; bytes: number }> {
  const c = await readCounters(db, 'debug:');
  return { bundles: c.get('bundles') ?? 0, artifacts: c.get('artifacts') ?? 0, bytes: c.get('bytes') ?? 0 };
}

export interface PruneCandidate {
  run_id: string;
  bytes: number;
}

/**
 * Bundles a prune or the TTL worker may remove, oldest first: bundles of terminal runs whose age
 * (the run's end, or the bundle's last write when the run has no end) is before `cutoffMs`, and,
 * with `orphans`, bundles whose run no longer exists. Bundles of live runs never appear.
 */
export async function debugPruneCandidates(
  db: Executor,
  opts: { cutoffMs: number; sessionId?: string; orphans: boolean },
): Promise<PruneCandidate[]> {
  let q = db
    .selectFrom('debug_bundles as b')
    .leftJoin('runs as r', 'r.run_id', 'b.run_id')
    .select(['b.run_id as run_id', 'b.bytes as bytes'])
    .where((eb) =>
      eb.or([
        eb.and([
          eb('r.status', 'in', [...TERMINAL_STATUSES]),
          eb(eb.fn.coalesce('r.finished_at_ms', 'b.updated_at_ms'), '<', opts.cutoffMs),
        ]),
        ...(opts.orphans
          ? [eb.and([eb('r.run_id', 'is', null), eb('b.updated_at_ms', '<', opts.cutoffMs)])]
          : []),
      ]),
    );
  if (opts.sessionId !== undefined) q = q.where('b.session_id', '=', opts.sessionId);
  const rows = await q.orderBy('b.updated_at_ms', 'asc').orderBy('b.run_id', 'asc').execute();
  return rows.map((r) => ({ run_id: r.run_id, bytes: num(r.bytes) }));
}

/** Removes the bundles (and all their artifacts) of these runs. */
export async function deleteDebugBundles(db: Executor, runIds: string[]): Promise<void> {
  for (let i = 0; i < runIds.length; i += 500) {
    const batch = runIds.slice(i, i + 500);
    await db.deleteFrom('debug_artifacts').where('run_id', 'in', batch).execute();
    await db.deleteFrom('debug_bundles').where('run_id', 'in', batch).execute();
  }
}
