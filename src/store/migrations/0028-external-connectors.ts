// External connector sidecars (api-collab §6.7–§6.8): which replica runs each child process and
// how it is doing (state, restarts, last error, the instance id ingress is checked against), and
// the assets each in-flight external delivery may serve to its sidecar.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export const m0028externalConnectors: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('external_connector_children')
      .addColumn('connector', 'text', (c) => c.primaryKey())
      /** The replica that runs the child; another may take over once `owner_expires_at_ms` passed. */
      .addColumn('owner_replica_id', 'text')
      .addColumn('owner_expires_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('host', 'text')
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('pid', 'bigint')
      /** Marker in the child's environment: a process found by pid is ours only if it carries it. */
      .addColumn('launch_id', 'text')
      .addColumn('instance_id', 'text')
      .addColumn('grant_id', 'text')
      .addColumn('launches', 'bigint', (c) => c.notNull())
      .addColumn('restarts', 'bigint', (c) => c.notNull())
      .addColumn('last_error', 'text')
      .addColumn('started_at_ms', 'bigint')
      .addColumn('ready_at_ms', 'bigint')
      .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('external_delivery_assets')
      .addColumn('connector', 'text', (c) => c.notNull())
      .addColumn('delivery_id', 'text', (c) => c.notNull())
      .addColumn('asset_id', 'text', (c) => c.notNull())
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      /** Set once the delivery committed or failed for good: the asset is no longer served. */
      .addColumn('settled_at_ms', 'bigint')
      .addPrimaryKeyConstraint('external_delivery_assets_pk', ['connector', 'delivery_id', 'asset_id'])
      .execute();
  },
};
