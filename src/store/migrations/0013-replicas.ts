// Replicas on one database (issue 11): who is alive, which replica executes which run, and under
// which fencing generation. Portable schema-builder code: the same tables on SQLite and PostgreSQL.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export const m0013replicas: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('replicas')
      .addColumn('replica_id', 'text', (c) => c.primaryKey())
      .addColumn('pid', 'bigint', (c) => c.notNull())
      .addColumn('host', 'text', (c) => c.notNull())
      .addColumn('url', 'text')
      .addColumn('started_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('heartbeat_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('stopped_at_ms', 'bigint')
      .execute();
    // One row per run ever executed; `generation` only grows, so a stale executor's writes
    // (checked against it in the same transaction) are refused once another replica took the run.
    await db.schema
      .createTable('run_leases')
      .addColumn('run_id', 'text', (c) => c.primaryKey())
      .addColumn('replica_id', 'text', (c) => c.notNull())
      .addColumn('generation', 'bigint', (c) => c.notNull())
      .addColumn('expires_at_ms', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('run_leases_replica').on('run_leases').columns(['replica_id']).execute();
    // Background shell tasks run where they were started; the owner's death settles them.
    await db.schema.alterTable('tasks').addColumn('owner_replica', 'text').execute();
  },
};
