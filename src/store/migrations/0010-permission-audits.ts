// One audit row per decided tool call (ops-runtime §6.4): what was decided, under which mode and rule.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { ddlOf } from '../dialect.ts';

export const m0010permissionAudits: Migration = {
  async up(db: Kysely<any>) {
    const ddl = ddlOf(db);
    await ddl
      .addAutoIncrementId(db.schema.createTable('permission_audits'), 'id')
      .addColumn('session_id', 'text', (c) => c.notNull())
      .addColumn('run_id', 'text', (c) => c.notNull())
      .addColumn('tool_call_id', 'text', (c) => c.notNull())
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('record', 'text', (c) => c.notNull())
      .execute();
    // A call resumed after a restart or an approval is decided again; it is audited once.
    await db.schema
      .createIndex('permission_audits_call')
      .unique()
      .on('permission_audits')
      .columns(['run_id', 'tool_call_id'])
      .execute();
    await db.schema
      .createIndex('permission_audits_session')
      .on('permission_audits')
      .columns(['session_id', 'id'])
      .execute();
  },
};
