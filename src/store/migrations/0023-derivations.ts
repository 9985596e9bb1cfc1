// Derivations (api-core §8.5): durable terminal attempts (`derivations`), and the cache entry each
// versioned key points at (`derivation_cache`). The key is the table's primary key, so two replicas
// that computed the same derivation at once cannot both install theirs: the second finds the
// first's entry and answers with it. A forced refresh keeps the older record and moves the entry.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export const m0023derivations: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('derivations')
      .addColumn('derivation_id', 'text', (c) => c.primaryKey())
      .addColumn('profile', 'text', (c) => c.notNull())
      .addColumn('profile_version', 'bigint', (c) => c.notNull())
      .addColumn('subject_key', 'text', (c) => c.notNull())
      .addColumn('subject', 'text', (c) => c.notNull())
      .addColumn('source_fingerprint', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('result_asset_id', 'text')
      .addColumn('reused_subject_asset', 'bigint', (c) => c.notNull())
      .addColumn('backend', 'text')
      .addColumn('error', 'text')
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('derivations_subject')
      .on('derivations')
      .columns(['subject_key', 'derivation_id'])
      .execute();
    await db.schema
      .createTable('derivation_cache')
      .addColumn('profile', 'text', (c) => c.notNull())
      .addColumn('profile_version', 'bigint', (c) => c.notNull())
      .addColumn('subject_key', 'text', (c) => c.notNull())
      .addColumn('source_fingerprint', 'text', (c) => c.notNull())
      .addColumn('derivation_id', 'text', (c) => c.notNull())
      .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('derivation_cache_pk', [
        'profile',
        'profile_version',
        'subject_key',
        'source_fingerprint',
      ])
      .execute();
  },
};
