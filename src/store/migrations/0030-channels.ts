// Channels (api-collab §1): the channel records, the roster, the append-only public event log, the
// messages and reactions materialized from it, and the public-turn leases. One writer transaction
// appends an event and updates what it materializes, so the log and the views never disagree.
// Stimuli and thread-work belong to the channel-stimuli feature (its own migration).
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export const m0030channels: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('channels')
      .addColumn('channel_id', 'text', (c) => c.primaryKey())
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('purpose', 'text')
      .addColumn('pinned_asset_ids', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text')
      .addColumn('autonomy_policy', 'text', (c) => c.notNull())
      .addColumn('default_participation_mode', 'text', (c) => c.notNull())
      .addColumn('paused', 'bigint', (c) => c.notNull())
      .addColumn('metadata', 'text')
      /** The last sequence number of the channel's event log (messages order by it). */
      .addColumn('last_seq', 'bigint', (c) => c.notNull())
      /** Cumulative moderation counters (JSON object of integers), moved with the state they count. */
      .addColumn('counters', 'text', (c) => c.notNull())
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('channel_members')
      .addColumn('channel_id', 'text', (c) => c.notNull())
      .addColumn('member_id', 'text', (c) => c.notNull())
      .addColumn('member_kind', 'text', (c) => c.notNull())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('display_name_mode', 'text', (c) => c.notNull())
      .addColumn('session_id', 'text')
      .addColumn('actor_id', 'text')
      .addColumn('role', 'text')
      .addColumn('expertise_tags', 'text', (c) => c.notNull())
      .addColumn('participation_mode', 'text')
      .addColumn('muted', 'bigint', (c) => c.notNull())
      /** When the member last spoke in public (cooldowns). */
      .addColumn('last_spoke_at_ms', 'bigint')
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('channel_members_pk', ['channel_id', 'member_id'])
      .execute();
    await db.schema
      .createTable('channel_events')
      .addColumn('channel_id', 'text', (c) => c.notNull())
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('channel_events_pk', ['channel_id', 'seq'])
      .execute();
    await db.schema
      .createTable('channel_messages')
      .addColumn('message_id', 'text', (c) => c.primaryKey())
      .addColumn('channel_id', 'text', (c) => c.notNull())
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .addColumn('thread_root_message_id', 'text', (c) => c.notNull())
      .addColumn('reply_to_message_id', 'text')
      .addColumn('sender_member_id', 'text', (c) => c.notNull())
      .addColumn('sender_actor_id', 'text', (c) => c.notNull())
      .addColumn('sender_kind', 'text', (c) => c.notNull())
      .addColumn('sender_display_name', 'text', (c) => c.notNull())
      .addColumn('sender_session_id', 'text')
      .addColumn('addressed_member_ids', 'text', (c) => c.notNull())
      /** RichOutput JSON: content, parts, artifacts. */
      .addColumn('output', 'text', (c) => c.notNull())
      /** Lower-cased text and attachment names, for `?query=`. */
      .addColumn('search_text', 'text', (c) => c.notNull())
      .addColumn('metadata', 'text')
      /** The channel_delivery run this post is the answer of: at most one post per run. */
      .addColumn('origin_run_id', 'text')
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .execute();
    // At most one post per run; a named unique index so both dialects catalog the same index.
    await db.schema
      .createIndex('channel_messages_origin_run')
      .on('channel_messages')
      .column('origin_run_id')
      .unique()
      .execute();
    await db.schema
      .createIndex('channel_messages_seq')
      .on('channel_messages')
      .columns(['channel_id', 'seq'])
      .execute();
    await db.schema
      .createIndex('channel_messages_thread')
      .on('channel_messages')
      .columns(['channel_id', 'thread_root_message_id', 'seq'])
      .execute();
    await db.schema
      .createTable('channel_reactions')
      .addColumn('channel_id', 'text', (c) => c.notNull())
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('actor_id', 'text', (c) => c.notNull())
      .addColumn('emoji', 'text', (c) => c.notNull())
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('channel_reactions_pk', ['message_id', 'actor_id', 'emoji'])
      .execute();
    await db.schema
      .createIndex('channel_reactions_channel')
      .on('channel_reactions')
      .columns(['channel_id', 'message_id'])
      .execute();
    await db.schema
      .createTable('channel_leases')
      .addColumn('turn_id', 'text', (c) => c.primaryKey())
      .addColumn('channel_id', 'text', (c) => c.notNull())
      .addColumn('thread_root_message_id', 'text', (c) => c.notNull())
      .addColumn('origin_message_id', 'text', (c) => c.notNull())
      .addColumn('holder_member_id', 'text', (c) => c.notNull())
      .addColumn('holder_session_id', 'text', (c) => c.notNull())
      .addColumn('active_run_id', 'text')
      /** active, released (the run ended), expired (the timeout or a recovery ended it). */
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('remaining_reply_budget', 'bigint', (c) => c.notNull())
      .addColumn('expires_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('queued_candidate_session_ids', 'text', (c) => c.notNull())
      .addColumn('last_human_message_id', 'text')
      .addColumn('agent_reply_count_since_last_human', 'bigint', (c) => c.notNull())
      /** The message this turn posted (written with the post, in one transaction). */
      .addColumn('posted_message_id', 'text')
      .addColumn('end_reason', 'text')
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('ended_at_ms', 'bigint')
      .execute();
    await db.schema
      .createIndex('channel_leases_active')
      .on('channel_leases')
      .columns(['state', 'expires_at_ms'])
      .execute();
    await db.schema
      .createIndex('channel_leases_thread')
      .on('channel_leases')
      .columns(['channel_id', 'thread_root_message_id', 'state'])
      .execute();
    await db.schema.createIndex('channel_leases_run').on('channel_leases').column('active_run_id').execute();
    // Per root thread: the turn state since the last human message (budget, candidate queue).
    await db.schema
      .createTable('channel_threads')
      .addColumn('channel_id', 'text', (c) => c.notNull())
      .addColumn('thread_root_message_id', 'text', (c) => c.notNull())
      .addColumn('last_human_message_id', 'text')
      /** Turns granted since the last human message: the reply budget is spent on grants. */
      .addColumn('turns_since_human', 'bigint', (c) => c.notNull())
      .addColumn('agent_replies_since_human', 'bigint', (c) => c.notNull())
      /** Members waiting for a turn, in order (JSON array of member ids). */
      .addColumn('queued_member_ids', 'text', (c) => c.notNull())
      /** The message the next turn answers. */
      .addColumn('origin_message_id', 'text', (c) => c.notNull())
      /** 1 when the root was posted by a session member without a human (an autonomous root). */
      .addColumn('autonomous', 'bigint', (c) => c.notNull())
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('channel_threads_pk', ['channel_id', 'thread_root_message_id'])
      .execute();
  },
};
