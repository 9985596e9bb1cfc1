// Pending human decisions: tool approvals and structured questions, plus session permission rules.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export const m0004approvalsQuestions: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('approvals')
      .addColumn('request_id', 'text', (c) => c.primaryKey())
      .addColumn('run_id', 'text', (c) => c.notNull())
      .addColumn('session_id', 'text', (c) => c.notNull())
      .addColumn('tool_call_id', 'text', (c) => c.notNull())
      .addColumn('tool_name', 'text', (c) => c.notNull())
      .addColumn('input', 'text', (c) => c.notNull())
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('resolution', 'text')
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('resolved_at_ms', 'bigint')
      .execute();
    await db.schema.createIndex('approvals_run').on('approvals').columns(['run_id', 'status']).execute();
    await db.schema
      .createIndex('approvals_session')
      .on('approvals')
      .columns(['session_id', 'status'])
      .execute();
    await db.schema
      .createTable('questions')
      .addColumn('request_id', 'text', (c) => c.primaryKey())
      .addColumn('run_id', 'text', (c) => c.notNull())
      .addColumn('session_id', 'text', (c) => c.notNull())
      .addColumn('tool_call_id', 'text', (c) => c.notNull())
      .addColumn('request', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('resolution', 'text')
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('expires_at_ms', 'bigint')
      .addColumn('resolved_at_ms', 'bigint')
      .execute();
    await db.schema.createIndex('questions_run').on('questions').columns(['run_id', 'status']).execute();
    await db.schema
      .createIndex('questions_session')
      .on('questions')
      .columns(['session_id', 'status'])
      .execute();
    await db.schema.alterTable('sessions').addColumn('permission_rules', 'text').execute();
  },
};
