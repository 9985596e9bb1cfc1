// Mailboxes (api-core §6.4, concepts §4.4): typed messages between agents, delivered in order as
// runs of the target's session, plus the parent clarifications a child waits on.
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Migration } from 'kysely/migration';

export const m0009mailboxes: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('mailbox_messages')
      .addColumn('message_id', 'text', (c) => c.primaryKey())
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('from_agent_id', 'text', (c) => c.notNull())
      .addColumn('to_agent_id', 'text', (c) => c.notNull())
      .addColumn('to_session_id', 'text', (c) => c.notNull())
      .addColumn('subject', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('fingerprint', 'text', (c) => c.notNull())
      .addColumn('correlation_id', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('delivery_run_id', 'text')
      .addColumn('delivery_attempts', 'integer', (c) => c.notNull())
      .addColumn('last_error', 'text')
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('expires_at_ms', 'bigint')
      .addColumn('dispatched_at_ms', 'bigint')
      .addColumn('settled_at_ms', 'bigint')
      .execute();
    await db.schema
      .createIndex('mailbox_messages_seq')
      .unique()
      .on('mailbox_messages')
      .column('seq')
      .execute();
    await db.schema
      .createIndex('mailbox_messages_target')
      .on('mailbox_messages')
      .columns(['to_agent_id', 'status', 'seq'])
      .execute();
    await db.schema
      .createIndex('mailbox_messages_status')
      .on('mailbox_messages')
      .columns(['status', 'expires_at_ms'])
      .execute();
    await db.schema
      .createIndex('mailbox_messages_run')
      .on('mailbox_messages')
      .column('delivery_run_id')
      .where(sql.ref('delivery_run_id'), 'is not', null)
      .execute();
    await db.schema
      .createIndex('mailbox_messages_origin')
      .on('mailbox_messages')
      .columns(['to_agent_id', 'from_agent_id', 'kind', 'status'])
      .execute();

    await db.schema
      .createTable('mailbox_clarifications')
      .addColumn('request_id', 'text', (c) => c.primaryKey())
      .addColumn('child_agent_id', 'text', (c) => c.notNull())
      .addColumn('child_session_id', 'text', (c) => c.notNull())
      .addColumn('child_run_id', 'text', (c) => c.notNull())
      .addColumn('child_tool_call_id', 'text', (c) => c.notNull())
      .addColumn('parent_agent_id', 'text', (c) => c.notNull())
      .addColumn('question', 'text', (c) => c.notNull())
      .addColumn('request_message_id', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('resolution', 'text')
      .addColumn('resolution_fingerprint', 'text')
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('expires_at_ms', 'bigint')
      .addColumn('resolved_at_ms', 'bigint')
      .execute();
    await db.schema
      .createIndex('mailbox_clarifications_child')
      .on('mailbox_clarifications')
      .columns(['child_agent_id', 'status'])
      .execute();
    await db.schema
      .createIndex('mailbox_clarifications_parent')
      .on('mailbox_clarifications')
      .columns(['parent_agent_id', 'status'])
      .execute();
    await db.schema
      .createIndex('mailbox_clarifications_run')
      .on('mailbox_clarifications')
      .columns(['child_run_id', 'status'])
      .execute();

    // Agent → session resolution for every agent (the agents migration creates the same index).
    await db.schema
      .createIndex('sessions_agent_id')
      .ifNotExists()
      .unique()
      .on('sessions')
      .column('agent_id')
      .execute();
  },
};
