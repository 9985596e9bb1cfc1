// Boards (api-collab §5, issue 18): board records and their immutable, linear revisions. Linearity
// is enforced by the database too: a revision's `sequence` is its parent's plus one and the pair
// (board_id, sequence) is unique, so two writers from one parent cannot both commit, even from two
// replicas. `client_revision_id` is unique per board (idempotent retries, across restarts).
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Migration } from 'kysely/migration';

export const m0034boards: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('boards')
      .addColumn('board_id', 'text', (c) => c.primaryKey())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('owner_session_id', 'text')
      .addColumn('metadata', 'text')
      .addColumn('tip_revision_id', 'text')
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('boards_owner').on('boards').column('owner_session_id').execute();

    await db.schema
      .createTable('board_revisions')
      .addColumn('revision_id', 'text', (c) => c.primaryKey())
      .addColumn('board_id', 'text', (c) => c.notNull())
      .addColumn('sequence', 'bigint', (c) => c.notNull())
      .addColumn('previous_revision_id', 'text')
      .addColumn('client_revision_id', 'text')
      .addColumn('payload_digest', 'text', (c) => c.notNull())
      .addColumn('render_asset_id', 'text', (c) => c.notNull())
      .addColumn('state_asset_id', 'text')
      .addColumn('note', 'text')
      .addColumn('source_session_id', 'text')
      .addColumn('source_run_id', 'text')
      .addColumn('metadata', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('quarantine_reason', 'text')
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('board_revisions_sequence')
      .unique()
      .on('board_revisions')
      .columns(['board_id', 'sequence'])
      .execute();
    await db.schema
      .createIndex('board_revisions_client')
      .unique()
      .on('board_revisions')
      .columns(['board_id', 'client_revision_id'])
      .where(sql.ref('client_revision_id'), 'is not', null)
      .execute();
  },
};
