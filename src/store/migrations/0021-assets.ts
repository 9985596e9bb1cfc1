// The asset store (api-core §7, issue 15): the catalog rows, the reference graph other domains
// keep to the assets they need, the tombstones of deleted ids, and, on PostgreSQL (replicas share
// the database, not a disk), the payload bytes themselves. SQLite daemons keep payloads in files
// under <state_root>/blobs/assets named by their SHA-256, so `asset_payloads` stays empty there.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export const m0021assets: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('assets')
      .addColumn('asset_id', 'text', (c) => c.primaryKey())
      .addColumn('media_type', 'text', (c) => c.notNull())
      .addColumn('file_name', 'text', (c) => c.notNull())
      .addColumn('sha256', 'text', (c) => c.notNull())
      .addColumn('byte_length', 'bigint', (c) => c.notNull())
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('text_sha256', 'text')
      .addColumn('text_byte_length', 'bigint')
      .addColumn('preview_media_type', 'text')
      .addColumn('preview_sha256', 'text')
      .addColumn('preview_byte_length', 'bigint')
      .execute();
    // Dedupe: one asset per (normalized media type, digest); concurrent identical imports meet here.
    await db.schema
      .createIndex('assets_media_digest')
      .unique()
      .on('assets')
      .columns(['media_type', 'sha256'])
      .execute();
    // Whether a payload is still named by any row (deletion and GC), whichever column names it.
    await db.schema.createIndex('assets_sha256').on('assets').column('sha256').execute();
    await db.schema.createIndex('assets_text_sha256').on('assets').column('text_sha256').execute();
    await db.schema.createIndex('assets_preview_sha256').on('assets').column('preview_sha256').execute();

    await db.schema
      .createTable('asset_references')
      .addColumn('asset_id', 'text', (c) => c.notNull())
      .addColumn('domain', 'text', (c) => c.notNull())
      .addColumn('owner_id', 'text', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('hard', 'integer', (c) => c.notNull())
      .addColumn('parent_id', 'text')
      .addColumn('detail_id', 'text')
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('asset_references_pk', ['asset_id', 'domain', 'owner_id', 'role'])
      .execute();
    await db.schema
      .createIndex('asset_references_owner')
      .on('asset_references')
      .columns(['domain', 'owner_id'])
      .execute();

    // `pending_digests` (JSON array) names payloads a delete still has to remove from disk: set in
    // the transaction that drops the row, cleared once they are gone, finished at start-up after a crash.
    await db.schema
      .createTable('asset_tombstones')
      .addColumn('asset_id', 'text', (c) => c.primaryKey())
      .addColumn('media_type', 'text', (c) => c.notNull())
      .addColumn('sha256', 'text', (c) => c.notNull())
      .addColumn('byte_length', 'bigint', (c) => c.notNull())
      .addColumn('deleted_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('pending_digests', 'text')
      .execute();

    await db.schema
      .createTable('asset_payloads')
      .addColumn('sha256', 'text', (c) => c.primaryKey())
      .addColumn('byte_length', 'bigint', (c) => c.notNull())
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('data', 'bytea', (c) => c.notNull())
      .execute();
  },
};
