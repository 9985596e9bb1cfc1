// Managed agents (api-core §6.4, concepts §4.4): child agents spawned as sidechains. A primary
// agent is its session (sessions.agent_id); only children get a row here, each with a session of
// its own, so agent → session stays one-to-one for every agent.
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Migration } from 'kysely/migration';

export const m0008agents: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('agents')
      .addColumn('agent_id', 'text', (c) => c.primaryKey())
      .addColumn('session_id', 'text', (c) => c.notNull())
      .addColumn('parent_agent_id', 'text', (c) => c.notNull())
      .addColumn('parent_session_id', 'text', (c) => c.notNull())
      .addColumn('root_agent_id', 'text', (c) => c.notNull())
      .addColumn('depth', 'integer', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('path', 'text', (c) => c.notNull())
      .addColumn('nickname', 'text')
      .addColumn('profile', 'text', (c) => c.notNull())
      .addColumn('retention', 'text', (c) => c.notNull())
      .addColumn('permission_mode', 'text', (c) => c.notNull())
      .addColumn('tool_surface', 'text', (c) => c.notNull())
      .addColumn('inheritance', 'text', (c) => c.notNull())
      .addColumn('subtask', 'text')
      .addColumn('fork_context', 'text')
      .addColumn('spawned_by_run_id', 'text')
      .addColumn('spawn_request_id', 'text')
      .addColumn('launch_run_id', 'text')
      .addColumn('est_cost_microusd', 'bigint', (c) => c.notNull())
      .addColumn('est_cpu_ms', 'bigint', (c) => c.notNull())
      .addColumn('spawned_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('settled_at_ms', 'bigint')
      .addColumn('closed_at_ms', 'bigint')
      .addColumn('close_reason', 'text')
      .addColumn('orphaned_at_ms', 'bigint')
      .execute();
    await db.schema.createIndex('agents_session').unique().on('agents').column('session_id').execute();
    await db.schema
      .createIndex('agents_parent')
      .on('agents')
      .columns(['parent_agent_id', 'agent_id'])
      .execute();
    await db.schema.createIndex('agents_root').on('agents').columns(['root_agent_id', 'agent_id']).execute();
    await db.schema.createIndex('agents_spawned_at').on('agents').column('spawned_at_ms').execute();
    await db.schema
      .createIndex('agents_spawn_request')
      .unique()
      .on('agents')
      .columns(['parent_agent_id', 'spawn_request_id'])
      .where(sql.ref('spawn_request_id'), 'is not', null)
      .execute();
    // Agent → session lookups (mailboxes, tools, this feature) for primary and child agents alike.
    await db.schema
      .createIndex('sessions_agent_id')
      .ifNotExists()
      .unique()
      .on('sessions')
      .column('agent_id')
      .execute();
  },
};
