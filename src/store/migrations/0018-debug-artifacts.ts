// The run debug store (issue 13): what debug capture recorded of a run's model calls, kept in the
// database like the rest of the daemon's state. `debug_bundles` is one row per run that has
// evidence (its level, sizes and artifact count: budgets, prune and the TTL worker read it without
// touching bodies); `debug_artifacts` holds each artifact's summary and its body (plaintext or an
// AES-GCM envelope), the body last so listing a bundle never reads one. Triggers keep the store's
// totals in `counters` (names `debug:bundles`, `debug:artifacts`, `debug:bytes`), so /v1/status and
// the whole-store budget read three rows. Portable schema-builder code plus the dialect's trigger
// helpers of migration 0011.
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Migration } from 'kysely/migration';
import { type CounterTrigger, ddlOf } from '../dialect.ts';

async function create(db: Kysely<any>): Promise<void> {
  const ddl = ddlOf(db);
  const { bump } = ddl.counterSyntax;
  await db.schema
    .createTable('debug_bundles')
    .addColumn('run_id', 'text', (c) => c.primaryKey())
    .addColumn('session_id', 'text', (c) => c.notNull())
    .addColumn('level', 'text', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('artifact_count', 'bigint', (c) => c.notNull())
    .addColumn('bytes', 'bigint', (c) => c.notNull())
    .addColumn('plaintext_bytes', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('debug_bundles_updated')
    .on('debug_bundles')
    .columns(['updated_at_ms', 'run_id'])
    .execute();
  await db.schema
    .createTable('debug_artifacts')
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('artifact_id', 'text', (c) => c.notNull())
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('level', 'text', (c) => c.notNull())
    .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('bytes', 'bigint', (c) => c.notNull())
    .addColumn('plaintext_bytes', 'bigint', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('truncated', 'integer', (c) => c.notNull())
    .addColumn('original_bytes', 'bigint')
    .addColumn('encrypted', 'integer', (c) => c.notNull())
    .addColumn('key_id', 'text')
    .addColumn('body', 'bytea', (c) => c.notNull())
    .addPrimaryKeyConstraint('debug_artifacts_pk', ['run_id', 'artifact_id'])
    .execute();
  const triggers: CounterTrigger[] = [
    {
      name: 'counters_debug_bundles_insert',
      on: 'AFTER INSERT ON debug_bundles',
      table: 'debug_bundles',
      body: [bump(`'debug:bundles'`, '1')],
    },
    {
      name: 'counters_debug_bundles_delete',
      on: 'AFTER DELETE ON debug_bundles',
      table: 'debug_bundles',
      body: [bump(`'debug:bundles'`, '-1')],
    },
    {
      name: 'counters_debug_artifacts_insert',
      on: 'AFTER INSERT ON debug_artifacts',
      table: 'debug_artifacts',
      body: [bump(`'debug:artifacts'`, '1'), bump(`'debug:bytes'`, 'NEW.bytes')],
    },
    {
      name: 'counters_debug_artifacts_delete',
      on: 'AFTER DELETE ON debug_artifacts',
      table: 'debug_artifacts',
      body: [bump(`'debug:artifacts'`, '-1'), bump(`'debug:bytes'`, '-OLD.bytes')],
    },
  ];
  for (const t of triggers) for (const stmt of ddl.createTrigger(t)) await sql.raw(stmt).execute(db);
}

export const m0018debugArtifacts: Migration = {
  async up(db: Kysely<any>) {
    // One transaction: a crash never leaves the tables without their counter triggers.
    if (db.isTransaction) await create(db);
    else await db.transaction().execute((trx) => create(trx));
  },
};
