// The signed, hash-chained audit of side effects (api-core §3.13).
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export const m0005externalActions: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('external_actions')
      .addColumn('action_id', 'text', (c) => c.primaryKey())
      .addColumn('run_id', 'text', (c) => c.notNull())
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .addColumn('record', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('external_actions_run')
      .on('external_actions')
      .columns(['run_id', 'seq'])
      .execute();
  },
};
