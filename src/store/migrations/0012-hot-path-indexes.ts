// Indexes that keep a step's reads independent of a session's history (issue 10, docs/performance.md).
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Migration } from 'kysely/migration';

export const m0012hotPathIndexes: Migration = {
  async up(db: Kysely<any>) {
    // max(queue_seq) at every submit: an index seek instead of a scan of every run.
    await db.schema.createIndex('runs_queue_seq').on('runs').column('queue_seq').execute();
    // A session's live runs (submit, promotion, session status): only the live rows, not its history.
    await db.schema
      .createIndex('runs_session_status')
      .on('runs')
      .columns(['session_id', 'status', 'queue_seq'])
      .execute();
    // The latest compaction summary of a session without walking its journal (a tiny partial index).
    await sql`CREATE INDEX journal_compaction_boundaries ON journal (session_id, seq) WHERE kind = 'compaction_boundary'`.execute(
      db,
    );
  },
};
