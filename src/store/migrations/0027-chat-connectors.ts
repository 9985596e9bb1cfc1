// Chat connectors (api-collab §6.6, issue 16): the Telegram poller's cursor, so consumed updates
// are not replayed after a restart, and its lease, so only one replica of a shared database polls
// a bot at a time (two getUpdates callers make Telegram answer 409 to both).
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export const m0027chatConnectors: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('telegram_polling')
      .addColumn('connector', 'text', (c) => c.primaryKey())
      /** The next getUpdates offset: the last update handled + 1. */
      .addColumn('next_offset', 'bigint', (c) => c.notNull())
      .addColumn('lease_owner', 'text')
      .addColumn('lease_expires_at_ms', 'bigint')
      .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
      .execute();
  },
};
