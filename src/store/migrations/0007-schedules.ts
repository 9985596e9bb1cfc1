// Schedules (api-core §6.3) and their bounded execution history. `next_fire_at_ms` is the claim
// token: a fire moves it forward with a compare-and-set in the transaction that creates the run.
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Migration } from 'kysely/migration';
import { ddlOf } from '../dialect.ts';

export const m0007schedules: Migration = {
  async up(db: Kysely<any>) {
    const ddl = ddlOf(db);
    await db.schema
      .createTable('schedules')
      .addColumn('schedule_id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('target_session_id', 'text', (c) => c.notNull())
      .addColumn('target_agent_id', 'text')
      .addColumn('owner_session_id', 'text')
      .addColumn('owner_agent_id', 'text')
      .addColumn('created_by_run_id', 'text')
      .addColumn('creation_key', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('cadence', 'text', (c) => c.notNull())
      .addColumn('overlap_policy', 'text', (c) => c.notNull())
      .addColumn('misfire_policy', 'text', (c) => c.notNull())
      .addColumn('max_executions', 'integer')
      .addColumn('request', 'text', (c) => c.notNull())
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('next_fire_at_ms', 'bigint')
      .addColumn('paused_remaining_ms', 'bigint')
      .addColumn('queued_fire_at_ms', 'bigint')
      .addColumn('in_flight_fire_at_ms', 'bigint')
      .addColumn('in_flight_run_id', 'text')
      .addColumn('last_fire_at_ms', 'bigint')
      .addColumn('last_dispatched_run_id', 'text')
      .addColumn('last_error', 'text')
      .addColumn('last_scheduler_error', 'text')
      .addColumn('scheduler_retry_after_ms', 'bigint')
      .addColumn('scheduler_retry_attempt', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('execution_count', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('consecutive_failures', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .createIndex('schedules_status_next')
      .on('schedules')
      .columns(['status', 'next_fire_at_ms'])
      .execute();
    await db.schema
      .createIndex('schedules_target')
      .on('schedules')
      .columns(['target_session_id', 'schedule_id'])
      .execute();
    await db.schema
      .createIndex('schedules_owner')
      .on('schedules')
      .columns(['owner_session_id', 'status'])
      .execute();
    // A tool call that creates a schedule and is retried after a crash finds the first one.
    await db.schema
      .createIndex('schedules_creation_key')
      .unique()
      .on('schedules')
      .column('creation_key')
      .where(sql.ref('creation_key'), 'is not', null)
      .execute();

    await ddl
      .addAutoIncrementId(db.schema.createTable('schedule_executions'), 'execution_id')
      .addColumn('schedule_id', 'text', (c) => c.notNull())
      .addColumn('fire_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('run_id', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempt', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('from_queued_fire', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('manual', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('claimed_at_ms', 'bigint')
      .addColumn('dispatched_at_ms', 'bigint')
      .addColumn('settled_at_ms', 'bigint')
      .addColumn('retry_after_ms', 'bigint')
      .addColumn('run_status', 'text')
      .addColumn('error', 'text')
      .execute();
    await db.schema
      .createIndex('schedule_executions_schedule')
      .on('schedule_executions')
      .columns(['schedule_id', 'execution_id'])
      .execute();
    await db.schema
      .createIndex('schedule_executions_run')
      .on('schedule_executions')
      .column('run_id')
      .where(sql.ref('run_id'), 'is not', null)
      .execute();
    // The durable form of "each occurrence is dispatched once": a second run for the same
    // cadence occurrence cannot commit (manual triggers are extra fires, not occurrences).
    await db.schema
      .createIndex('schedule_executions_occurrence')
      .unique()
      .on('schedule_executions')
      .columns(['schedule_id', 'fire_at_ms'])
      .where(sql<boolean>`run_id is not null and manual = 0`)
      .execute();
  },
};
