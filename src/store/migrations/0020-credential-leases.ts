// Credential broker state (ops-runtime §5.3): issued leases, revoked subjects and revoked slots
// are durable rows, so a revocation holds across a restart and across PostgreSQL replicas.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export const m0020credentialLeases: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('auth_leases')
      .addColumn('lease_id', 'text', (c) => c.primaryKey())
      .addColumn('grant_id', 'text', (c) => c.notNull())
      .addColumn('subject_id', 'text', (c) => c.notNull())
      .addColumn('subject_epoch', 'bigint', (c) => c.notNull())
      .addColumn('audience_type', 'text', (c) => c.notNull())
      /** The audience object (JSON), as CredentialLeaseStatus shows it. */
      .addColumn('audience', 'text', (c) => c.notNull())
      .addColumn('slot_id', 'text')
      .addColumn('issued_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('expires_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('revoked_at_ms', 'bigint')
      .addColumn('revoke_reason', 'text')
      /** sha256 of the opaque lease token; the token itself is never stored. */
      .addColumn('token_digest', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('auth_leases_subject').on('auth_leases').columns(['subject_id']).execute();
    await db.schema.createIndex('auth_leases_slot').on('auth_leases').columns(['slot_id']).execute();
    await db.schema
      .createTable('auth_subjects')
      .addColumn('subject_id', 'text', (c) => c.primaryKey())
      .addColumn('current_epoch', 'bigint', (c) => c.notNull())
      .addColumn('revoked_at_ms', 'bigint')
      .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('auth_slot_revocations')
      .addColumn('slot_id', 'text', (c) => c.primaryKey())
      .addColumn('revoked_at_ms', 'bigint', (c) => c.notNull())
      .execute();
  },
};
