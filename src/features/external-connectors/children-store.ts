// Rows of external_connector_children: which replica runs a connector's child (a lease it renews),
// and what the status section shows (state, restarts, last error, instance id, pid).
import type { Executor, ExternalConnectorChildrenTable } from '../../store/schema.ts';
import type { Store } from '../../store/store.ts';

export type ChildRow = ExternalConnectorChildrenTable;

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

function toRow(r: Record<string, unknown>): ChildRow {
  return {
    ...(r as unknown as ChildRow),
    owner_expires_at_ms: Number(r.owner_expires_at_ms),
    pid: num(r.pid),
    launches: Number(r.launches),
    restarts: Number(r.restarts),
    started_at_ms: num(r.started_at_ms),
    ready_at_ms: num(r.ready_at_ms),
    updated_at_ms: Number(r.updated_at_ms),
  };
}

export async function readChild(db: Executor, connector: string): Promise<ChildRow | null> {
  const r = await db
    .selectFrom('external_connector_children')
    .selectAll()
    .where('connector', '=', connector)
    .executeTakeFirst();
  return r ? toRow(r as Record<string, unknown>) : null;
}

export async function listChildren(db: Executor): Promise<ChildRow[]> {
  const rows = await db.selectFrom('external_connector_children').selectAll().orderBy('connector').execute();
  return rows.map((r) => toRow(r as Record<string, unknown>));
}

/**
 * Takes (or keeps) the right to run the child: free, expired, or already ours. `force` is the
 * single-writer SQLite store, where no other daemon can hold it. Returns the row as it was before
 * (to settle a process a dead owner left) and whether we own it now.
 */
export async function claimChild(
  store: Store,
  connector: string,
  replicaId: string,
  host: string,
  ttlMs: number,
  force: boolean,
): Promise<{ owned: boolean; previous: ChildRow | null }> {
  return store.write(async (tx) => {
    const previous = await readChild(tx.db, connector);
    if (!previous) {
      await tx.db
        .insertInto('external_connector_children')
        .values({
          connector,
          owner_replica_id: replicaId,
          owner_expires_at_ms: tx.now + ttlMs,
          host,
          state: 'starting',
          pid: null,
          launch_id: null,
          instance_id: null,
          grant_id: null,
          launches: 0,
          restarts: 0,
          last_error: null,
          started_at_ms: null,
          ready_at_ms: null,
          updated_at_ms: tx.now,
        })
        .onConflict((oc) => oc.column('connector').doNothing())
        .execute();
      const now = await readChild(tx.db, connector);
      return { owned: now?.owner_replica_id === replicaId, previous: null };
    }
    const free =
      force ||
      previous.owner_replica_id === null ||
      previous.owner_replica_id === replicaId ||
      previous.owner_expires_at_ms < tx.now;
    if (!free) return { owned: false, previous };
    await tx.db
      .updateTable('external_connector_children')
      .set({ owner_replica_id: replicaId, owner_expires_at_ms: tx.now + ttlMs, host, updated_at_ms: tx.now })
      .where('connector', '=', connector)
      .execute();
    return { owned: true, previous };
  });
}

/** Renews our lease; false when another replica took the child over (we must stop ours). */
export async function renewChild(
  store: Store,
  connector: string,
  replicaId: string,
  ttlMs: number,
): Promise<boolean> {
  return store.write(async (tx) => {
    const r = await tx.db
      .updateTable('external_connector_children')
      .set({ owner_expires_at_ms: tx.now + ttlMs })
      .where('connector', '=', connector)
      .where('owner_replica_id', '=', replicaId)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  });
}

export async function updateChild(
  store: Store,
  connector: string,
  replicaId: string,
  patch: Partial<Omit<ChildRow, 'connector' | 'owner_replica_id'>>,
): Promise<void> {
  await store.write((tx) =>
    tx.db
      .updateTable('external_connector_children')
      .set({ ...patch, updated_at_ms: tx.now })
      .where('connector', '=', connector)
      .where('owner_replica_id', '=', replicaId)
      .execute(),
  );
}

/** Gives the child up (shutdown, connector deleted or changed to remote_http). */
export async function releaseChild(
  store: Store,
  connector: string,
  replicaId: string,
  state: string,
  drop: boolean,
): Promise<void> {
  await store.write(async (tx) => {
    if (drop) {
      await tx.db
        .deleteFrom('external_connector_children')
        .where('connector', '=', connector)
        .where('owner_replica_id', '=', replicaId)
        .execute();
      return;
    }
    await tx.db
      .updateTable('external_connector_children')
      .set({
        owner_replica_id: null,
        owner_expires_at_ms: 0,
        state,
        pid: null,
        grant_id: null,
        updated_at_ms: tx.now,
      })
      .where('connector', '=', connector)
      .where('owner_replica_id', '=', replicaId)
      .execute();
  });
}
