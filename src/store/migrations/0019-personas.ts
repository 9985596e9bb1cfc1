// Personas (api-core §9): the mutable records, and `sessions.persona_id` so a list can filter by
// the bound snapshot (`GET /v1/sessions?persona_id=`) with an index instead of parsing JSON.
// The snapshot itself was always in `sessions.persona` (migration 0001), never set before this.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export const m0019personas: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('personas')
      .addColumn('persona_id', 'text', (c) => c.primaryKey())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('soul', 'text', (c) => c.notNull())
      .addColumn('capability_scope', 'text')
      .addColumn('default_skills', 'text')
      .addColumn('metadata', 'text')
      .addColumn('version', 'bigint', (c) => c.notNull())
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.alterTable('sessions').addColumn('persona_id', 'text').execute();
    await db.schema
      .createIndex('sessions_persona_id')
      .on('sessions')
      .columns(['persona_id', 'session_id'])
      .execute();
  },
};
