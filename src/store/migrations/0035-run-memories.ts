// Recovered run memory (concepts §4.9, issue 19): one sanitized record per terminal run, kept in
// SQL like every other durable state (decision 440) instead of loose `run-memories/` files, with a
// full-text index over its normalized words (src/store/full-text.ts).
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { ddlOf } from '../dialect.ts';
import { createFullTextIndex } from '../full-text.ts';

export const RUN_MEMORIES_FULL_TEXT = {
  index: 'run_memories_fts',
  table: 'run_memories',
  key: 'seq',
  column: 'search_text',
} as const;

export const m0035runMemories: Migration = {
  async up(db: Kysely<any>) {
    await ddlOf(db)
      .addAutoIncrementId(db.schema.createTable('run_memories'), 'seq')
      .addColumn('run_id', 'text', (c) => c.notNull())
      .addColumn('session_id', 'text', (c) => c.notNull())
      .addColumn('captured_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('summary', 'text', (c) => c.notNull())
      .addColumn('request_preview', 'text')
      .addColumn('outcome_preview', 'text')
      .addColumn('artifact_ids', 'text', (c) => c.notNull())
      .addColumn('failure_markers', 'text', (c) => c.notNull())
      .addColumn('scope_keys', 'text', (c) => c.notNull())
      .addColumn('semantic_capture', 'text', (c) => c.notNull())
      .addColumn('search_text', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('run_memories_run').unique().on('run_memories').column('run_id').execute();
    await db.schema
      .createIndex('run_memories_session')
      .on('run_memories')
      .columns(['session_id', 'captured_at_ms'])
      .execute();
    // Age pruning and the stale count read a range of capture times.
    await db.schema
      .createIndex('run_memories_captured')
      .on('run_memories')
      .column('captured_at_ms')
      .execute();
    await db.schema
      .createIndex('run_memories_semantic')
      .on('run_memories')
      .columns(['semantic_capture', 'captured_at_ms'])
      .execute();
    await createFullTextIndex(db, RUN_MEMORIES_FULL_TEXT);
  },
};
