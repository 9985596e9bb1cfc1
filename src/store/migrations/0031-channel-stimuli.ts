// Channel stimuli and thread-work (api-collab §1.8, §1.9, §1.13; decisions 355-369): the durable
// per-channel stimulus queue, the per-root-thread work projection (bindings and progress snapshots
// as JSON text), and per-channel counters of stimuli the queue bound refused. Kept apart from the
// channels tables of migration 0030: the channel-stimuli feature owns them and deletes them with the
// channel through the channels delete hook.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export const m0031channelStimuli: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('channel_stimuli')
      .addColumn('stimulus_id', 'text', (c) => c.primaryKey())
      .addColumn('channel_id', 'text', (c) => c.notNull())
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('thread_root_message_id', 'text')
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('visibility_hint', 'text', (c) => c.notNull())
      .addColumn('content', 'text', (c) => c.notNull())
      .addColumn('addressed_member_ids', 'text', (c) => c.notNull())
      .addColumn('sender_session_id', 'text')
      .addColumn('sender_actor_id', 'text')
      .addColumn('sender_display_name', 'text')
      .addColumn('source_kind', 'text')
      .addColumn('source_ref', 'text')
      .addColumn('dedupe_key', 'text')
      .addColumn('progress_key', 'text')
      .addColumn('available_at_ms', 'bigint')
      .addColumn('expires_at_ms', 'bigint')
      .addColumn('metadata', 'text')
      .addColumn('state', 'text', (c) => c.notNull())
      /** Why the stimulus left `pending` other than by dispatch (expired, queue rules, a refused post). */
      .addColumn('state_reason', 'text')
      /** The worker's own deferral (autonomy limits), separate from the caller's available_at_ms. */
      .addColumn('retry_at_ms', 'bigint')
      .addColumn('claimed_at_ms', 'bigint')
      .addColumn('dispatched_message_id', 'text')
      .addColumn('dispatched_thread_root_message_id', 'text')
      .addColumn('dispatched_at_ms', 'bigint')
      /** The stimulus that replaced this one (superseded) or that it joined (coalesced). */
      .addColumn('related_stimulus_id', 'text')
      .addColumn('attempts', 'bigint', (c) => c.notNull())
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('channel_stimuli_channel_state')
      .on('channel_stimuli')
      .columns(['channel_id', 'state'])
      .execute();
    await db.schema.createIndex('channel_stimuli_state').on('channel_stimuli').columns(['state']).execute();
    await db.schema
      .createTable('channel_thread_work')
      .addColumn('channel_id', 'text', (c) => c.notNull())
      .addColumn('thread_root_message_id', 'text', (c) => c.notNull())
      .addColumn('topic_kind', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('owner_session_id', 'text')
      .addColumn('initiative_key', 'text')
      .addColumn('source_kind', 'text')
      .addColumn('source_ref', 'text')
      .addColumn('last_stimulus_id', 'text')
      .addColumn('last_signal_at_ms', 'bigint')
      .addColumn('last_main_promotion_at_ms', 'bigint')
      .addColumn('bindings', 'text', (c) => c.notNull())
      .addColumn('progress_snapshots', 'text', (c) => c.notNull())
      .addColumn('metadata', 'text')
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('channel_thread_work_pk', ['channel_id', 'thread_root_message_id'])
      .execute();
    await db.schema
      .createTable('channel_stimulus_counters')
      .addColumn('channel_id', 'text', (c) => c.primaryKey())
      .addColumn('suppressed_stimuli', 'bigint', (c) => c.notNull())
      .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
      .execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropTable('channel_stimulus_counters').execute();
    await db.schema.dropTable('channel_thread_work').execute();
    await db.schema.dropTable('channel_stimuli').execute();
  },
};
