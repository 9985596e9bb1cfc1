// Playbooks and Flows (api-collab §3, issue 18): immutable manifest versions with their mutable
// release record, Flow correlation records (the Flow's status is derived on read, never stored),
// and an append-only log of every playbook and flow change.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { ddlOf } from '../dialect.ts';

export const m0033playbooks: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('playbook_versions')
      .addColumn('playbook_id', 'text', (c) => c.notNull())
      .addColumn('version', 'text', (c) => c.notNull())
      .addColumn('digest', 'text', (c) => c.notNull())
      .addColumn('manifest', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('evidence_refs', 'text', (c) => c.notNull())
      .addColumn('revoked_reason', 'text')
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('playbook_versions_pk', ['playbook_id', 'version'])
      .execute();

    await db.schema
      .createTable('flows')
      .addColumn('flow_id', 'text', (c) => c.primaryKey())
      .addColumn('idempotency_key', 'text')
      .addColumn('playbook_id', 'text', (c) => c.notNull())
      .addColumn('version', 'text', (c) => c.notNull())
      .addColumn('digest', 'text', (c) => c.notNull())
      .addColumn('session_id', 'text', (c) => c.notNull())
      .addColumn('run_id', 'text')
      .addColumn('nonce', 'text', (c) => c.notNull())
      .addColumn('request_digest', 'text', (c) => c.notNull())
      .addColumn('metadata', 'text')
      .addColumn('evidence_refs', 'text', (c) => c.notNull())
      .addColumn('cancelled_at_ms', 'bigint')
      // The first terminal projection, frozen so a settled Flow never regresses (§3.6).
      .addColumn('completed_at_ms', 'bigint')
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('flows_run').on('flows').column('run_id').execute();
    await db.schema.createIndex('flows_session').on('flows').column('session_id').execute();
    await db.schema.createIndex('flows_playbook').on('flows').column('playbook_id').execute();

    await ddlOf(db)
      .addAutoIncrementId(db.schema.createTable('playbook_events'), 'id')
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('playbook_id', 'text', (c) => c.notNull())
      .addColumn('flow_id', 'text')
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('data', 'text', (c) => c.notNull())
      .execute();
  },
};
