// Session-scoped inline skill activations (ops-runtime §9): the active inline set survives a
// restart, so it is a table of its own, one row per (session, skill name).
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export const m0017skillActivations: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('skill_activations')
      .addColumn('session_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('digest', 'text', (c) => c.notNull())
      .addColumn('run_id', 'text', (c) => c.notNull())
      .addColumn('tool_call_id', 'text', (c) => c.notNull())
      .addColumn('activated_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('snapshot', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('skill_activations_pk', ['session_id', 'name'])
      .execute();
  },
};
