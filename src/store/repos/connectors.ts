// Connector rows, ingress receipts and binding keys (migration 0025).
import type { ConnectorBindingsTable, ConnectorReceiptsTable, ConnectorsTable, Executor } from '../schema.ts';

export type ConnectorRow = ConnectorsTable;
export type ReceiptRow = ConnectorReceiptsTable;

const num = <T extends { created_at_ms: number }>(r: T): T => ({
  ...r,
  created_at_ms: Number(r.created_at_ms),
});

export async function listConnectorRows(db: Executor): Promise<ConnectorRow[]> {
  const rows = await db.selectFrom('connectors').selectAll().orderBy('kind').orderBy('name').execute();
  return rows.map((r) => ({ ...num(r), updated_at_ms: Number(r.updated_at_ms) }));
}

export async function getConnectorRow(
  db: Executor,
  kind: string,
  name: string,
): Promise<ConnectorRow | undefined> {
  const r = await db
    .selectFrom('connectors')
    .selectAll()
    .where('kind', '=', kind)
    .where('name', '=', name)
    .executeTakeFirst();
  return r && { ...num(r), updated_at_ms: Number(r.updated_at_ms) };
}

export async function upsertConnectorRow(db: Executor, row: ConnectorRow): Promise<void> {
  await db
    .insertInto('connectors')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['kind', 'name']).doUpdateSet({
        settings: row.settings,
        secrets: row.secrets,
        updated_at_ms: row.updated_at_ms,
      }),
    )
    .execute();
}

export async function deleteConnectorRow(db: Executor, kind: string, name: string): Promise<boolean> {
  const res = await db
    .deleteFrom('connectors')
    .where('kind', '=', kind)
    .where('name', '=', name)
    .executeTakeFirst();
  return Number(res.numDeletedRows ?? 0) > 0;
}

export async function getReceipt(
  db: Executor,
  kind: string,
  connector: string,
  keySha256: string,
): Promise<ReceiptRow | undefined> {
  const r = await db
    .selectFrom('connector_receipts')
    .selectAll()
    .where('kind', '=', kind)
    .where('connector', '=', connector)
    .where('key_sha256', '=', keySha256)
    .executeTakeFirst();
  return r && num(r);
}

/** False when another writer holds the key already (the caller reads that receipt instead). */
export async function insertReceipt(db: Executor, row: ReceiptRow): Promise<boolean> {
  const res = await db
    .insertInto('connector_receipts')
    .values(row)
    .onConflict((oc) => oc.columns(['kind', 'connector', 'key_sha256']).doNothing())
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
}

export async function countReceipts(db: Executor): Promise<number> {
  const r = await db
    .selectFrom('connector_receipts')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** The sessions these keys are bound to (key → session id), for the keys that are bound. */
export async function boundSessions(db: Executor, keys: readonly string[]): Promise<Map<string, string>> {
  if (keys.length === 0) return new Map();
  const rows = await db
    .selectFrom('connector_bindings')
    .select(['binding_key', 'session_id'])
    .where('binding_key', 'in', [...keys])
    .execute();
  return new Map(rows.map((r) => [r.binding_key, r.session_id]));
}

/** Binds a key unless it is bound already (concurrent binders meet here; the caller re-reads). */
export async function bindKey(db: Executor, row: ConnectorBindingsTable): Promise<void> {
  await db
    .insertInto('connector_bindings')
    .values(row)
    .onConflict((oc) => oc.column('binding_key').doNothing())
    .execute();
}

/** Sessions with stored reply-target defaults (the JSON text), for the connector delete clean-up. */
export async function sessionsWithReplyTargets(
  db: Executor,
): Promise<Array<{ session_id: string; reply_targets: string }>> {
  const rows = await db
    .selectFrom('sessions')
    .select(['session_id', 'reply_targets'])
    .where('reply_targets', 'is not', null)
    .execute();
  return rows.map((r) => ({ session_id: r.session_id, reply_targets: r.reply_targets! }));
}
