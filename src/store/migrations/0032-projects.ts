// Projects (api-collab §2, issue 17): project records, their members and linked channels, project
// tasks, the channel roster entries this daemon mirrored for them, and an append-only log of every
// project change (the durable record of what changed, in the transaction that changed it).
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Migration } from 'kysely/migration';
import { ddlOf } from '../dialect.ts';

export const m0032projects: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('projects')
      .addColumn('project_id', 'text', (c) => c.primaryKey())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('metadata', 'text')
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
      .execute();

    // `position` keeps the roster (and the links) in the order they were first added.
    await db.schema
      .createTable('project_members')
      .addColumn('project_id', 'text', (c) => c.notNull())
      .addColumn('member_id', 'text', (c) => c.notNull())
      .addColumn('position', 'bigint', (c) => c.notNull())
      .addColumn('member_kind', 'text', (c) => c.notNull())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('session_id', 'text')
      .addColumn('agent_id', 'text')
      .addColumn('actor_id', 'text')
      .addColumn('role', 'text')
      .addColumn('expertise_tags', 'text')
      .addColumn('metadata', 'text')
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('project_members_pk', ['project_id', 'member_id'])
      .execute();
    // One session at most once per project (api-collab §2.4), enforced by the database too.
    await db.schema
      .createIndex('project_members_session')
      .unique()
      .on('project_members')
      .columns(['project_id', 'session_id'])
      .where(sql.ref('session_id'), 'is not', null)
      .execute();
    await db.schema
      .createIndex('project_members_by_session')
      .on('project_members')
      .column('session_id')
      .execute();

    await db.schema
      .createTable('project_channel_links')
      .addColumn('project_id', 'text', (c) => c.notNull())
      .addColumn('channel_id', 'text', (c) => c.notNull())
      .addColumn('position', 'bigint', (c) => c.notNull())
      .addColumn('role', 'text')
      .addColumn('default_for_new_tasks', 'integer', (c) => c.notNull())
      .addColumn('mirror_members', 'integer', (c) => c.notNull())
      .addColumn('metadata', 'text')
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('project_channel_links_pk', ['project_id', 'channel_id'])
      .execute();
    await db.schema
      .createIndex('project_channel_links_channel')
      .on('project_channel_links')
      .column('channel_id')
      .execute();

    await db.schema
      .createTable('project_tasks')
      .addColumn('project_id', 'text', (c) => c.notNull())
      .addColumn('project_task_id', 'text', (c) => c.notNull())
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('assignee_member_id', 'text')
      .addColumn('primary_session_id', 'text')
      .addColumn('latest_run_id', 'text')
      .addColumn('discussion_channel_id', 'text')
      .addColumn('discussion_thread_root_message_id', 'text')
      .addColumn('blocked_by', 'text', (c) => c.notNull())
      .addColumn('output', 'text')
      .addColumn('metadata', 'text')
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('project_tasks_pk', ['project_id', 'project_task_id'])
      .execute();
    // Run changes find the task that follows them; session ends find the tasks a session owns.
    await db.schema.createIndex('project_tasks_run').on('project_tasks').column('latest_run_id').execute();
    await db.schema
      .createIndex('project_tasks_session')
      .on('project_tasks')
      .column('primary_session_id')
      .execute();

    // The roster entries mirrored into linked channels, as last applied (reconciliation diffs them).
    await db.schema
      .createTable('project_mirrored_members')
      .addColumn('project_id', 'text', (c) => c.notNull())
      .addColumn('channel_id', 'text', (c) => c.notNull())
      .addColumn('member_id', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('project_mirrored_members_pk', ['project_id', 'channel_id', 'member_id'])
      .execute();

    await ddlOf(db)
      .addAutoIncrementId(db.schema.createTable('project_events'), 'id')
      .addColumn('project_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('project_task_id', 'text')
      .addColumn('run_id', 'text')
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('data', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('project_events_project')
      .on('project_events')
      .columns(['project_id', 'id'])
      .execute();
  },
};
