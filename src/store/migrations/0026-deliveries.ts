// The durable delivery queue (api-collab §8, api-core §3.14): one row per output and reply target.
// A row is written in the transaction that persists its output, so an output and its deliveries
// commit together. `in_flight_since_ms` is the durable "attempt started" marker written before a
// plugin sends; a row found with it set and its lease expired had an attempt with no known outcome.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { ddlOf } from '../dialect.ts';

export const m0026deliveries: Migration = {
  async up(db: Kysely<any>) {
    await ddlOf(db)
      // The row id orders deliveries FIFO per target.
      .addAutoIncrementId(db.schema.createTable('deliveries'), 'id')
      .addColumn('delivery_id', 'text', (c) => c.notNull())
      .addColumn('run_id', 'text', (c) => c.notNull())
      .addColumn('session_id', 'text', (c) => c.notNull())
      .addColumn('plugin', 'text', (c) => c.notNull())
      /** The raw address: never shown in views, events or the audit. */
      .addColumn('address', 'text', (c) => c.notNull())
      .addColumn('target_digest', 'text', (c) => c.notNull())
      /** What is sent: content, parts, artifacts, metadata, source_kind (JSON). */
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'bigint', (c) => c.notNull())
      .addColumn('next_attempt_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('in_flight_since_ms', 'bigint')
      .addColumn('lease_owner', 'text')
      .addColumn('lease_expires_at_ms', 'bigint')
      .addColumn('last_error_code', 'text')
      .addColumn('last_error', 'text')
      /** 1 when the outcome of an attempt is unknown and only an operator may send again. */
      .addColumn('needs_operator', 'bigint', (c) => c.notNull())
      .addColumn('progress', 'text')
      .addColumn('replayed_from_delivery_id', 'text')
      .addColumn('resolved_at_ms', 'bigint')
      .addColumn('resolution_reason', 'text')
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('delivered_at_ms', 'bigint')
      .addColumn('dead_lettered_at_ms', 'bigint')
      .execute();
    // A named unique index, not a column constraint: both dialects then catalog the same index.
    await db.schema
      .createIndex('deliveries_delivery_id')
      .on('deliveries')
      .column('delivery_id')
      .unique()
      .execute();
    await db.schema
      .createIndex('deliveries_due')
      .on('deliveries')
      .columns(['status', 'next_attempt_at_ms'])
      .execute();
    await db.schema
      .createIndex('deliveries_target')
      .on('deliveries')
      .columns(['target_digest', 'id'])
      .execute();
    await db.schema.createIndex('deliveries_run').on('deliveries').columns(['run_id', 'id']).execute();
    await db.schema
      .createIndex('deliveries_session')
      .on('deliveries')
      .columns(['session_id', 'id'])
      .execute();
    // Status counts and the sweep for attempts a dead process left in flight.
    await db.schema
      .createIndex('deliveries_status_plugin')
      .on('deliveries')
      .columns(['status', 'plugin'])
      .execute();
    await db.schema
      .createIndex('deliveries_in_flight')
      .on('deliveries')
      .columns(['in_flight_since_ms'])
      .execute();
    await db.schema
      .createIndex('deliveries_replayed_from')
      .on('deliveries')
      .columns(['replayed_from_delivery_id', 'id'])
      .execute();
  },
};
