// Connectors (api-collab §6–§7, issue 16): runtime-managed connector records (file-backed ones
// live in the --connectors-config file and are never stored), the durable ingress receipts that
// make one inbound event exactly one run, and the sticky binding-key → session map.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export const m0025connectors: Migration = {
  async up(db: Kysely<any>) {
    // `settings` is the non-secret JSON; `secrets` maps a secret field to where its value lives
    // ({secret_ref} or {env}); a value given through the API is kept in the secret store only.
    await db.schema
      .createTable('connectors')
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('settings', 'text', (c) => c.notNull())
      .addColumn('secrets', 'text', (c) => c.notNull())
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('connectors_pk', ['kind', 'name'])
      .execute();

    // One row per (connector, hashed event key), written in the transaction that creates the run:
    // a crash leaves both or neither. The raw key is never stored.
    await db.schema
      .createTable('connector_receipts')
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('connector', 'text', (c) => c.notNull())
      .addColumn('key_sha256', 'text', (c) => c.notNull())
      .addColumn('fingerprint', 'text', (c) => c.notNull())
      .addColumn('session_id', 'text', (c) => c.notNull())
      .addColumn('run_id', 'text', (c) => c.notNull())
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('connector_receipts_pk', ['kind', 'connector', 'key_sha256'])
      .execute();

    // Binding keys are one namespace across connectors (several connectors may feed one session
    // through a shared key) and never move to another session once bound.
    await db.schema
      .createTable('connector_bindings')
      .addColumn('binding_key', 'text', (c) => c.primaryKey())
      .addColumn('session_id', 'text', (c) => c.notNull())
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('connector_bindings_session')
      .on('connector_bindings')
      .column('session_id')
      .execute();
  },
};
