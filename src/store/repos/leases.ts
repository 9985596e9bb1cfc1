// Replicas and run leases: the only SQL about who executes what (engine/leases.ts is the policy).
import { sql } from 'kysely';
import type { Executor, ReplicasTable } from '../schema.ts';

export interface LeaseRow {
  run_id: string;
  replica_id: string;
  generation: number;
  expires_at_ms: number;
}

/** Gives the run to `replicaId` with the next fencing generation; returns that generation. */
export async function takeLease(
  db: Executor,
  runId: string,
  replicaId: string,
  expiresAtMs: number,
): Promise<number> {
  const row = await db
    .insertInto('run_leases')
    .values({ run_id: runId, replica_id: replicaId, generation: 1, expires_at_ms: expiresAtMs })
    .onConflict((oc) =>
      oc.column('run_id').doUpdateSet({
        replica_id: replicaId,
        generation: sql<number>`run_leases.generation + 1`,
        expires_at_ms: expiresAtMs,
      }),
    )
    .returning('generation')
    .executeTakeFirstOrThrow();
  return Number(row.generation);
}

export async function leaseOf(db: Executor, runId: string): Promise<LeaseRow | undefined> {
  const r = await db.selectFrom('run_leases').selectAll().where('run_id', '=', runId).executeTakeFirst();
  return r && normalizeLease(r);
}

/** Extends the leases `replicaId` still holds among `runIds`; returns the run ids it still holds. */
export async function renewLeases(
  db: Executor,
  replicaId: string,
  held: Array<{ runId: string; generation: number }>,
  expiresAtMs: number,
): Promise<Set<string>> {
  const kept = new Set<string>();
  // Chunks keep the statement's parameter count bounded whatever the number of executors.
  for (let i = 0; i < held.length; i += 200) {
    const chunk = held.slice(i, i + 200);
    const rows = await db
      .updateTable('run_leases')
      .set({ expires_at_ms: expiresAtMs })
      .where('replica_id', '=', replicaId)
      .where((eb) =>
        eb.or(chunk.map((h) => eb.and([eb('run_id', '=', h.runId), eb('generation', '=', h.generation)]))),
      )
      .returning('run_id')
      .execute();
    for (const r of rows) kept.add(r.run_id);
  }
  return kept;
}

/** Lets other replicas take these runs at once (a graceful stop). */
export async function releaseLeases(db: Executor, replicaId: string, runIds: string[]): Promise<void> {
  if (runIds.length === 0) return;
  await db
    .updateTable('run_leases')
    .set({ expires_at_ms: 0 })
    .where('replica_id', '=', replicaId)
    .where('run_id', 'in', runIds)
    .execute();
}

/**
 * `running` runs nobody executes: no lease, an expired one, or (`mine`, unless null) one this replica's
 * previous process held. On PostgreSQL the rows are locked `FOR UPDATE SKIP LOCKED`, so two
 * replicas sweeping together never pick the same run.
 */
export async function orphanedRunningRuns(
  db: Executor,
  opts: { now: number; mine: string | null; limit: number; lock: boolean },
): Promise<Array<{ run_id: string; session_id: string; previous_replica: string | null }>> {
  let q = db
    .selectFrom('runs')
    .leftJoin('run_leases', 'run_leases.run_id', 'runs.run_id')
    .select(['runs.run_id', 'runs.session_id', 'run_leases.replica_id as previous_replica'])
    .where('runs.status', '=', 'running')
    .where((eb) =>
      eb.or([
        eb('run_leases.run_id', 'is', null),
        eb('run_leases.expires_at_ms', '<', opts.now),
        ...(opts.mine === null ? [] : [eb('run_leases.replica_id', '=', opts.mine)]),
      ]),
    )
    .orderBy('runs.queue_seq', 'asc')
    .limit(opts.limit);
  if (opts.lock) q = q.forUpdate('runs').skipLocked();
  return q.execute();
}

/** Sessions with queued runs and nothing active: a queue nobody is moving (its replica died). */
export async function stalledSessions(db: Executor, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('runs as q')
    .select('q.session_id')
    .distinct()
    .where('q.status', '=', 'queued')
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('runs as a')
            .select('a.run_id')
            .whereRef('a.session_id', '=', 'q.session_id')
            .where('a.status', 'in', ['running', 'waiting_for_approval', 'waiting_for_user_question']),
        ),
      ),
    )
    .limit(limit)
    .execute();
  return rows.map((r) => r.session_id);
}

/** Leases of runs that are `running`, for the status view. */
export async function liveLeases(db: Executor): Promise<LeaseRow[]> {
  const rows = await db
    .selectFrom('run_leases')
    .innerJoin('runs', 'runs.run_id', 'run_leases.run_id')
    .select([
      'run_leases.run_id',
      'run_leases.replica_id',
      'run_leases.generation',
      'run_leases.expires_at_ms',
    ])
    .where('runs.status', '=', 'running')
    .orderBy('run_leases.run_id')
    .limit(1000)
    .execute();
  return rows.map(normalizeLease);
}

export async function upsertReplica(db: Executor, row: ReplicasTable): Promise<void> {
  await db
    .insertInto('replicas')
    .values(row)
    .onConflict((oc) =>
      oc.column('replica_id').doUpdateSet({
        pid: row.pid,
        host: row.host,
        url: row.url,
        started_at_ms: row.started_at_ms,
        heartbeat_at_ms: row.heartbeat_at_ms,
        stopped_at_ms: null,
      }),
    )
    .execute();
}

export async function updateReplica(
  db: Executor,
  replicaId: string,
  patch: Partial<Omit<ReplicasTable, 'replica_id'>>,
): Promise<void> {
  await db.updateTable('replicas').set(patch).where('replica_id', '=', replicaId).execute();
}

/** Replicas seen since `sinceMs` or not stopped, newest heartbeat first. */
export async function listReplicas(db: Executor, sinceMs: number): Promise<ReplicasTable[]> {
  const rows = await db
    .selectFrom('replicas')
    .selectAll()
    .where((eb) => eb.or([eb('heartbeat_at_ms', '>=', sinceMs), eb('stopped_at_ms', 'is', null)]))
    .orderBy('heartbeat_at_ms', 'desc')
    .limit(100)
    .execute();
  return rows.map(normalizeReplica);
}

const normalizeReplica = (r: ReplicasTable): ReplicasTable => ({
  ...r,
  pid: Number(r.pid),
  started_at_ms: Number(r.started_at_ms),
  heartbeat_at_ms: Number(r.heartbeat_at_ms),
  stopped_at_ms: r.stopped_at_ms === null ? null : Number(r.stopped_at_ms),
});

const normalizeLease = (r: LeaseRow): LeaseRow => ({
  ...r,
  generation: Number(r.generation),
  expires_at_ms: Number(r.expires_at_ms),
});

/** The rows of these replicas (those that ever registered), for liveness checks. */
export async function replicasByIds(db: Executor, ids: string[]): Promise<ReplicasTable[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom('replicas').selectAll().where('replica_id', 'in', ids).execute();
  return rows.map(normalizeReplica);
}
