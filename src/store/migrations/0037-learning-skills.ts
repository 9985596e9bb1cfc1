// Promoted procedural skills (api-collab §4.6, issue 19): one durable record per skill name, the
// authority over the daemon-owned skill files under <state_root>/skills. Rollout evidence, the
// bounded lifecycle audit and the retained active snapshots are JSON columns of the record: they
// are read and rewritten with it in one transaction, never queried on their own.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export const m0037learningSkills: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('learning_skills')
      .addColumn('skill_name', 'text', (c) => c.primaryKey())
      .addColumn('source_learning_id', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('verification_status', 'text', (c) => c.notNull())
      .addColumn('definition', 'text', (c) => c.notNull())
      .addColumn('definition_fingerprint', 'text', (c) => c.notNull())
      .addColumn('rollout_generation', 'integer', (c) => c.notNull())
      .addColumn('evidence_refs', 'text', (c) => c.notNull())
      .addColumn('successful_run_count', 'integer', (c) => c.notNull())
      .addColumn('evidence_session_ids', 'text', (c) => c.notNull())
      .addColumn('verifier_run_ids', 'text', (c) => c.notNull())
      .addColumn('real_daemon_verified', 'integer', (c) => c.notNull())
      .addColumn('last_verified_workspace_digest', 'text')
      .addColumn('canary_success_count', 'integer', (c) => c.notNull())
      .addColumn('canary_failure_count', 'integer', (c) => c.notNull())
      .addColumn('lifecycle_events', 'text', (c) => c.notNull())
      .addColumn('active_snapshots', 'text', (c) => c.notNull())
      .addColumn('revoked_reason', 'text')
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('learning_skills_source')
      .on('learning_skills')
      .column('source_learning_id')
      .execute();
    await db.schema.createIndex('learning_skills_status').on('learning_skills').column('status').execute();
  },
};
