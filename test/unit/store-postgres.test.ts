// The store on PostgreSQL (the machine's server, one fresh schema per test): the migrations build
// the same schema as on SQLite, once even when replicas start together; the journal, the event log,
// group commit and the repos behave as on SQLite.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { Kysely, sql } from 'kysely';
import pg from 'pg';
import { EventLog } from '../../src/store/event-log.ts';
import { migrationProvider } from '../../src/store/migrations/index.ts';
import { SchemaPostgresDialect } from '../../src/store/postgres/dialect.ts';
import { readWindow } from '../../src/store/repos/journal.ts';
import { insertExecution, recentExecutions } from '../../src/store/repos/schedules.ts';
import { Store } from '../../src/store/store.ts';
import { tempDir } from '../helpers/daemon.ts';
import { adminQuery, type FreshSchema, freshSchema } from '../helpers/pg-schema.ts';
import { postgresShape, sqliteShape } from '../helpers/schema-shape.ts';

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function schema(): Promise<FreshSchema> {
  const s = await freshSchema();
  cleanups.push(() => s.drop());
  return s;
}

async function openPg(s: FreshSchema): Promise<Store> {
  const dir = tempDir('kheish-store-pg-');
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return Store.open({ stateRoot: dir, databaseUrl: s.url, poolSize: 3 });
}

async function query<T = any>(s: FreshSchema, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: s.url });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}

const allMigrations = async () => Object.keys(await migrationProvider.getMigrations()).sort();
const migrated = (s: FreshSchema) =>
  query<{ name: string; timestamp: string }>(s, 'select name, timestamp from kysely_migration order by name');

const session = (id: string, now: number) => ({
  session_id: id,
  agent_id: `agent-${id}`,
  created_at_ms: now,
  updated_at_ms: now,
});

test('the migrations build on PostgreSQL the tables, columns, indexes and triggers they build on SQLite', async () => {
  const s = await schema();
  const store = await openPg(s);
  assert.equal(store.dialect, 'postgres');
  await store.close();
  assert.deepEqual(
    (await migrated(s)).map((m) => m.name),
    await allMigrations(),
  );

  const dir = tempDir('kheish-store-sqlite-');
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  await (await Store.open({ stateRoot: dir })).close();
  const lite = new Database(join(dir, 'kheish.sqlite'), { readonly: true });
  const expected = sqliteShape(lite);
  lite.close();
  const client = new pg.Client({ connectionString: s.url });
  await client.connect();
  try {
    const actual = await postgresShape(client);
    assert.ok(
      expected.some((l) => l.startsWith('trigger counters_runs_insert')),
      'the shape lists triggers',
    );
    const only = (xs: string[], ys: string[]) => xs.filter((x) => !ys.includes(x));
    assert.deepEqual(
      { only_postgres: only(actual, expected), only_sqlite: only(expected, actual) },
      {
        only_postgres: [],
        only_sqlite: [],
      },
    );
  } finally {
    await client.end();
  }
});

test('opening a migrated schema again runs nothing', async () => {
  const s = await schema();
  await (await openPg(s)).close();
  const first = await migrated(s);
  const store = await openPg(s);
  await store.close();
  assert.deepEqual(await migrated(s), first);
});

test('replicas opening a fresh schema at the same moment migrate it once', async () => {
  const s = await schema();
  const stores = await Promise.all([openPg(s), openPg(s), openPg(s)]);
  assert.deepEqual(
    (await migrated(s)).map((m) => m.name),
    await allMigrations(),
  );
  // Every one of them works on the same tables.
  await Promise.all(
    stores.map((st, i) =>
      st.write((tx) =>
        tx.db
          .insertInto('sessions')
          .values(session(`s${i}`, tx.now))
          .execute(),
      ),
    ),
  );
  assert.equal((await query(s, 'select session_id from sessions')).length, 3);
  for (const st of stores) await st.close();
});

test('group commit on PostgreSQL: a failing writer (even a failed statement) rolls back alone', async () => {
  const s = await schema();
  const store = await openPg(s);
  try {
    await store.write((tx) => tx.db.insertInto('sessions').values(session('taken', tx.now)).execute());
    // Queued together, the writers usually share one transaction (a group also ends after a few ms,
    // so on a busy machine they may not: the outcome must be the same either way).
    const results = await Promise.allSettled([
      store.write((tx) => tx.db.insertInto('sessions').values(session('a', tx.now)).execute()),
      store.write(async (tx) => {
        await tx.db.insertInto('sessions').values(session('b', tx.now)).execute();
        throw new Error('refused');
      }),
      // A duplicate key: the statement fails, which aborts a PostgreSQL transaction but for the savepoint.
      store.write(async (tx) => {
        await tx.db.insertInto('sessions').values(session('c', tx.now)).execute();
        await tx.db.insertInto('sessions').values(session('taken', tx.now)).execute();
      }),
      store.write((tx) => tx.db.insertInto('sessions').values(session('d', tx.now)).execute()),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'rejected', 'fulfilled'],
    );
    const ids = (await query(s, 'select session_id from sessions order by session_id')).map(
      (r) => r.session_id,
    );
    assert.deepEqual(ids, ['a', 'd', 'taken']);
    assert.deepEqual(
      (await query(s, "select value from counters where name = 'sessions:total'")).map((r) =>
        Number(r.value),
      ),
      [3],
      'the counters rolled back with the rows',
    );
  } finally {
    await store.close();
  }
});

test('journal on PostgreSQL: seqs across a rolled-back writer, the window from the tail and from the table', async () => {
  const s = await schema();
  const store = await openPg(s);
  const entry = (kind: string) => ({ kind, payload: { text: kind } });
  try {
    await store.write((tx) => tx.db.insertInto('sessions').values(session('s', tx.now)).execute());
    await store.write((tx) => store.journal.append(tx, 's', null, [entry('input_received')]));
    await Promise.allSettled([
      store.write((tx) => store.journal.append(tx, 's', null, [entry('assistant_message')])),
      store.write(async (tx) => {
        await store.journal.append(tx, 's', null, [entry('input_received')]);
        throw new Error('refused');
      }),
      store.write((tx) => store.journal.append(tx, 's', 'run-1', [entry('input_received')])),
    ]);
    await store.write((tx) =>
      store.journal.append(tx, 's', 'run-1', [
        { kind: 'compaction_boundary', payload: { summary: 'so far', upto_seq: 2 } },
        entry('assistant_message'),
      ]),
    );
    const seqs = (await query(s, "select seq from journal where session_id = 's' order by seq")).map((r) =>
      Number(r.seq),
    );
    assert.deepEqual(seqs, [1, 2, 3, 4, 5]);
    const live = (await store.journal.window('s')).map((e) => `${e.seq}:${e.kind}`);
    assert.deepEqual(live, ['3:input_received', '4:compaction_boundary', '5:assistant_message']);
    assert.deepEqual(
      (await readWindow(store.db, 's', 1000)).map((e) => `${e.seq}:${e.kind}`),
      live,
    );
  } finally {
    await store.close();
  }
  const again = await openPg(s);
  try {
    assert.deepEqual(
      (await again.journal.window('s')).map((e) => e.seq),
      [3, 4, 5],
    );
    await again.write((tx) => again.journal.append(tx, 's', null, [entry('input_received')]));
    assert.deepEqual(
      (await readWindow(again.db, 's', 1000)).map((e) => e.seq),
      [3, 4, 5, 6],
    );
  } finally {
    await again.close();
  }
});

test('events on PostgreSQL: appended in a write, delivered after commit, read back by filter in id order', async () => {
  const s = await schema();
  const store = await openPg(s);
  const log = new EventLog(store, 1000);
  await log.init();
  const seen: number[] = [];
  let allSeen: () => void = () => undefined;
  const threeSeen = new Promise<void>((resolve) => {
    allSeen = resolve;
  });
  const unsubscribe = log.subscribe((ev) => {
    if (seen.push(ev.rowId!) === 3) allSeen();
  });
  try {
    await store.write((tx) =>
      log.append(tx, [
        { name: 'run_updated', session_id: 's1', run_id: 'r1', data: { n: 1 } },
        { name: 'run_updated', session_id: 's2', run_id: 'r2', data: { n: 2 } },
      ]),
    );
    await assert.rejects(
      store.write(async (tx) => {
        await log.append(tx, [{ name: 'run_updated', session_id: 's1', run_id: 'r1', data: { n: 0 } }]);
        throw new Error('refused');
      }),
    );
    await store.write((tx) =>
      log.append(tx, [{ name: 'output', session_id: 's1', run_id: 'r1', data: { n: 3 } }]),
    );
    const all = await log.readStored(0, Number.MAX_SAFE_INTEGER, {});
    assert.deepEqual(
      all.map((e) => JSON.parse(e.json).n),
      [1, 2, 3],
    );
    assert.ok(all.every((e, i) => i === 0 || e.rowId > all[i - 1]!.rowId));
    const ofS1 = await log.readStored(0, Number.MAX_SAFE_INTEGER, { session_id: 's1' });
    assert.deepEqual(
      ofS1.map((e) => e.name),
      ['run_updated', 'output'],
    );
    const ofR2 = await log.readStored(0, Number.MAX_SAFE_INTEGER, { run_id: 'r2' });
    assert.deepEqual(
      ofR2.map((e) => JSON.parse(e.json)),
      [{ n: 2 }],
    );
    assert.equal(await log.countRetained(), 3);
    // The live feed delivers what committed, in id order.
    await threeSeen;
    assert.deepEqual(
      seen,
      all.map((e) => e.rowId),
    );
  } finally {
    unsubscribe();
    await log.close();
    await store.close();
  }
});

test('schedule executions get their ids back on PostgreSQL', async () => {
  const s = await schema();
  const store = await openPg(s);
  try {
    const row = (fire: number) => ({
      schedule_id: 'sch',
      fire_at_ms: fire,
      run_id: null,
      status: 'skipped' as const,
      attempt: 0,
      from_queued_fire: 0,
      manual: 0,
      claimed_at_ms: null,
      dispatched_at_ms: null,
      settled_at_ms: null,
      retry_after_ms: null,
      run_status: null,
      error: null,
    });
    const ids = await store.write(async (tx) => [
      await insertExecution(tx.db, row(1)),
      await insertExecution(tx.db, row(2)),
    ]);
    assert.ok(Number.isSafeInteger(ids[0]) && ids[1]! > ids[0]!, `ids ${ids}`);
    const recent = await recentExecutions(store.db, ['sch'], 10);
    assert.deepEqual(
      recent.get('sch')!.map((e) => e.execution_id),
      ids,
    );
  } finally {
    await store.close();
  }
});

test("Kysely's introspection sees only the store's schema, even while another schema is dropped", async () => {
  const s = await schema();
  await (await openPg(s)).close();
  const other = await schema();
  await adminQuery(`CREATE TABLE ${other.schema}.kysely_migration (name text)`);
  const pool = new pg.Pool({ connectionString: s.url, max: 1 });
  const db = new Kysely<any>({ dialect: new SchemaPostgresDialect({ pool }) });
  try {
    const names = (await db.introspection.getTables({ withInternalKyselyTables: true })).map(
      (t) => `${t.schema}.${t.name}`,
    );
    assert.ok(names.includes(`${s.schema}.kysely_migration`) && names.includes(`${s.schema}.runs`));
    assert.deepEqual(
      names.filter((n) => !n.startsWith(`${s.schema}.`)),
      [],
    );
    const plain = await db.introspection.getTables();
    assert.ok(!plain.some((t) => t.name.startsWith('kysely_')), "Kysely's own tables only when asked for");
    const events = plain.find((t) => t.name === 'events')!;
    assert.deepEqual(
      events.columns.map((c) => [c.name, c.isAutoIncrementing, c.isNullable]),
      [
        ['id', true, false],
        ['name', false, false],
        ['session_id', false, true],
        ['run_id', false, true],
        ['created_at_ms', false, false],
        ['data', false, false],
      ],
    );
    // A snapshot that still lists the other schema after it is gone (what a concurrent DROP SCHEMA
    // looks like to a query already running): the stock introspector fails on it, this one not.
    await db.connection().execute(async (conn) => {
      await sql`BEGIN ISOLATION LEVEL REPEATABLE READ`.execute(conn);
      try {
        await sql`SELECT count(*) FROM pg_catalog.pg_namespace`.execute(conn);
        await other.drop();
        const tables = await conn.introspection.getTables();
        assert.ok(tables.some((t) => t.name === 'runs'));
      } finally {
        await sql`ROLLBACK`.execute(conn);
      }
    });
  } finally {
    await db.destroy();
  }
});
