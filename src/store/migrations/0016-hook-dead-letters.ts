// Hook dead letters (ops-runtime §7.4): hook executions that failed after their retries, kept
// redacted for the operator, pruned by count and total bytes, resolved without being deleted.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export const m0016hookDeadLetters: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('hook_dead_letters')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('event', 'text', (c) => c.notNull())
      .addColumn('hook_name', 'text', (c) => c.notNull())
      .addColumn('bytes', 'integer', (c) => c.notNull())
      .addColumn('resolved_at_ms', 'bigint')
      .addColumn('record', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('hook_dead_letters_created')
      .on('hook_dead_letters')
      .columns(['created_at_ms', 'id'])
      .execute();
  },
};
