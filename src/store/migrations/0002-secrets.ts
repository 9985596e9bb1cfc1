// The encrypted secret store: one row per auth slot, plus the key-check record that lets a start
// with the wrong master key be refused before anything is read or written.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export const m0002secrets: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('auth_slots')
      .addColumn('slot_id', 'text', (c) => c.primaryKey())
      .addColumn('provider', 'text', (c) => c.notNull())
      .addColumn('mode', 'text', (c) => c.notNull())
      // Redacted status, in clear so listing never needs the key.
      .addColumn('summary', 'text', (c) => c.notNull())
      .addColumn('details', 'text', (c) => c.notNull())
      // The slot's `state`, sealed with AES-256-GCM (additional data = slot id).
      .addColumn('envelope', 'text', (c) => c.notNull())
      .addColumn('key_id', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('auth_key_check')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('key_id', 'text', (c) => c.notNull())
      .addColumn('envelope', 'text', (c) => c.notNull())
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .execute();
  },
};
