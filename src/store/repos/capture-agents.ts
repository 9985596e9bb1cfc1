// Capture agents and applied provisioning batches (migration 0022).
import type { CaptureAgentsTable, Executor } from '../schema.ts';

export type CaptureAgentRow = CaptureAgentsTable;

const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function normalize(r: CaptureAgentRow): CaptureAgentRow {
  return {
    ...r,
    heartbeat_token_version: Number(r.heartbeat_token_version),
    heartbeat_interval_ms: Number(r.heartbeat_interval_ms),
    heartbeat_grace_ms: Number(r.heartbeat_grace_ms),
    last_heartbeat_at_ms: numOrNull(r.last_heartbeat_at_ms),
    heartbeat_deadline_ms: Number(r.heartbeat_deadline_ms),
    heartbeat_missing_since_ms: numOrNull(r.heartbeat_missing_since_ms),
    revoked_at_ms: numOrNull(r.revoked_at_ms),
    created_at_ms: Number(r.created_at_ms),
    updated_at_ms: Number(r.updated_at_ms),
  };
}

export async function getAgent(
  db: Executor,
  machineId: string,
  opts: { lock?: boolean; postgres?: boolean } = {},
): Promise<CaptureAgentRow | undefined> {
  let q = db.selectFrom('capture_agents').selectAll().where('machine_id', '=', machineId);
  if (opts.lock && opts.postgres) q = q.forUpdate();
  const r = await q.executeTakeFirst();
  return r && normalize(r);
}

export async function listAgents(db: Executor): Promise<CaptureAgentRow[]> {
  const rows = await db.selectFrom('capture_agents').selectAll().orderBy('machine_id', 'asc').execute();
  return rows.map(normalize);
}

export async function insertAgent(db: Executor, row: CaptureAgentRow): Promise<void> {
  await db.insertInto('capture_agents').values(row).execute();
}

export async function updateAgent(
  db: Executor,
  machineId: string,
  patch: Partial<CaptureAgentRow>,
): Promise<void> {
  await db.updateTable('capture_agents').set(patch).where('machine_id', '=', machineId).execute();
}

/**
 * Moves an active agent past its deadline to `missing`; false when another caller (or replica)
 * already did, so the transition is audited once.
 */
export async function markMissing(db: Executor, machineId: string, now: number): Promise<boolean> {
  const res = await db
    .updateTable('capture_agents')
    .set({ heartbeat_state: 'missing', heartbeat_missing_since_ms: now, updated_at_ms: now })
    .where('machine_id', '=', machineId)
    .where('status', '=', 'active')
    .where('heartbeat_state', '!=', 'missing')
    .where('heartbeat_deadline_ms', '<', now)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

/** Active agents whose deadline passed and that are not marked missing yet. */
export async function overdueAgents(db: Executor, now: number): Promise<string[]> {
  const rows = await db
    .selectFrom('capture_agents')
    .select('machine_id')
    .where('status', '=', 'active')
    .where('heartbeat_state', '!=', 'missing')
    .where('heartbeat_deadline_ms', '<', now)
    .execute();
  return rows.map((r) => r.machine_id);
}

/** Records a batch id as applied; false when it already was (the caller answers 409). */
export async function claimBatch(
  db: Executor,
  batchId: string,
  machineIds: string[],
  now: number,
): Promise<boolean> {
  const res = await db
    .insertInto('capture_provision_batches')
    .values({ batch_id: batchId, machine_ids: JSON.stringify(machineIds), applied_at_ms: now })
    .onConflict((oc) => oc.column('batch_id').doNothing())
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
}
