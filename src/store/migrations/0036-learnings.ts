// Learning plane (api-collab §4, issue 19): candidates and published learnings. A daemon capture
// is unique per (capture_run_id, semantic_key), so a capture replayed after a crash inserts
// nothing twice, on either store.
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Migration } from 'kysely/migration';

export const m0036learnings: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('learning_candidates')
      .addColumn('candidate_id', 'text', (c) => c.primaryKey())
      .addColumn('origin', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('scope_kind', 'text', (c) => c.notNull())
      .addColumn('scope_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('sensitivity', 'text', (c) => c.notNull())
      .addColumn('content', 'text', (c) => c.notNull())
      .addColumn('confidence', 'integer', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('evidence_refs', 'text', (c) => c.notNull())
      .addColumn('expires_at_ms', 'bigint')
      .addColumn('semantic_key', 'text', (c) => c.notNull())
      .addColumn('capture_run_id', 'text')
      .addColumn('automation_review', 'text')
      .addColumn('published_learning_id', 'text')
      .addColumn('reject_reason', 'text')
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('learning_candidates_capture')
      .unique()
      .on('learning_candidates')
      .columns(['capture_run_id', 'semantic_key'])
      .where(sql.ref('capture_run_id'), 'is not', null)
      .execute();
    await db.schema
      .createIndex('learning_candidates_state')
      .on('learning_candidates')
      .columns(['state', 'created_at_ms'])
      .execute();

    await db.schema
      .createTable('learnings')
      .addColumn('learning_id', 'text', (c) => c.primaryKey())
      .addColumn('candidate_id', 'text')
      .addColumn('scope_kind', 'text', (c) => c.notNull())
      .addColumn('scope_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('sensitivity', 'text', (c) => c.notNull())
      .addColumn('content', 'text', (c) => c.notNull())
      .addColumn('confidence', 'integer', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('publish_tier', 'text', (c) => c.notNull())
      .addColumn('verification_status', 'text', (c) => c.notNull())
      .addColumn('policy_decision', 'text', (c) => c.notNull())
      .addColumn('policy_actor', 'text', (c) => c.notNull())
      .addColumn('matched_rule_name', 'text')
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('evidence_refs', 'text', (c) => c.notNull())
      .addColumn('semantic_key', 'text', (c) => c.notNull())
      .addColumn('subject_key', 'text')
      .addColumn('supersedes', 'text')
      .addColumn('superseded_by', 'text')
      .addColumn('revoke_reason', 'text')
      .addColumn('revoked_at_ms', 'bigint')
      .addColumn('expires_at_ms', 'bigint')
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('learnings_scope')
      .on('learnings')
      .columns(['scope_kind', 'scope_id', 'kind', 'status'])
      .execute();
    await db.schema
      .createIndex('learnings_status')
      .on('learnings')
      .columns(['status', 'created_at_ms'])
      .execute();
  },
};
