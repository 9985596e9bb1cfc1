// Blobs kept in the database in chunks (issue 11): on a shared PostgreSQL store the output of a
// background shell task must be readable from every replica, not only from the one whose disk
// holds a log file. `blobs` is one row per blob (how many bytes were written in all, how many the
// rotation discarded, how many rotations), `blob_chunks` the retained bytes in write order.
// Portable schema-builder code: `bytea` is PostgreSQL's byte string; SQLite accepts the declared
// name and stores byte values as they are (a BLOB is never converted by a column's affinity), so
// both catalogs show the same type. The SQLite store keeps task output in files (ARCHITECTURE §4).
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export const m0014blobChunks: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('blobs')
      .addColumn('blob_id', 'text', (c) => c.primaryKey())
      .addColumn('total_bytes', 'bigint', (c) => c.notNull())
      .addColumn('discarded_bytes', 'bigint', (c) => c.notNull())
      .addColumn('rotation_count', 'bigint', (c) => c.notNull())
      .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
      .execute();
    // `start_byte` is the offset of the chunk's first byte in everything the blob was ever given
    // (chunks never overlap and are never empty), so a range read is one seek of the primary key
    // whatever the rotation discarded before it.
    await db.schema
      .createTable('blob_chunks')
      .addColumn('blob_id', 'text', (c) => c.notNull())
      .addColumn('start_byte', 'bigint', (c) => c.notNull())
      .addColumn('size_bytes', 'bigint', (c) => c.notNull())
      .addColumn('data', 'bytea', (c) => c.notNull())
      .addPrimaryKeyConstraint('blob_chunks_pk', ['blob_id', 'start_byte'])
      .execute();
  },
};
