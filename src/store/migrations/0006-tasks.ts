// Session tasks (api-core §6.2): work items an agent tracks, and background shell tasks the
// `bash` tool starts. Dependencies are rows of their own so `blocks` is a query, never a copy.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export const m0006tasks: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('tasks')
      .addColumn('task_id', 'text', (c) => c.primaryKey())
      .addColumn('session_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('owner_agent_id', 'text')
      .addColumn('output', 'text')
      .addColumn('metadata', 'text', (c) => c.notNull())
      .addColumn('created_by_run_id', 'text')
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('archived_at_ms', 'bigint')
      .execute();
    await db.schema.createIndex('tasks_session').on('tasks').columns(['session_id', 'task_id']).execute();
    await db.schema.createIndex('tasks_status').on('tasks').columns(['kind', 'status']).execute();
    await db.schema
      .createTable('task_dependencies')
      .addColumn('session_id', 'text', (c) => c.notNull())
      .addColumn('task_id', 'text', (c) => c.notNull())
      .addColumn('blocked_by_task_id', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('task_dependencies_pk', ['task_id', 'blocked_by_task_id'])
      .execute();
    await db.schema
      .createIndex('task_dependencies_blocker')
      .on('task_dependencies')
      .columns(['blocked_by_task_id'])
      .execute();
  },
};
