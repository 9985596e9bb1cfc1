// The status counters of migration 0011 on PostgreSQL (plpgsql triggers): the same random writes,
// failed statements and rolled-back transactions applied to a SQLite store and to a PostgreSQL
// schema leave the same rows and the same counters, and those equal a fresh COUNT/SUM of the rows.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, test } from 'node:test';
import type Database from 'better-sqlite3';
import fc from 'fast-check';
import pg from 'pg';
import { agentCounts } from '../../src/store/repos/agents.ts';
import { countPendingApprovals, countPendingQuestions } from '../../src/store/repos/approvals.ts';
import { countRunsByStatus, runUsageTotals } from '../../src/store/repos/runs.ts';
import { countSchedulesByStatus, scheduleActivityCounts } from '../../src/store/repos/schedules.ts';
import { countSessions } from '../../src/store/repos/sessions.ts';
import { countTasksByStatus } from '../../src/store/repos/tasks.ts';
import { Store } from '../../src/store/store.ts';
import { applyOp, type Op, opArb, statementOf } from '../helpers/counters-ops.ts';
import { actualCounters, expectedCounters, openStateDb } from '../helpers/counters-oracle.ts';
import { tempDir } from '../helpers/daemon.ts';
import { type FreshSchema, freshSchema } from '../helpers/pg-schema.ts';
import { numberedPlaceholders } from '../helpers/state-query.ts';

const TABLES = ['runs', 'sessions', 'tasks', 'approvals', 'questions', 'agents', 'schedules'] as const;

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

interface Pair {
  lite: InstanceType<typeof Database>;
  liteStore: Store;
  pgStore: Store;
  client: pg.Client;
  schema: FreshSchema;
}

/** A migrated SQLite state root and a migrated PostgreSQL schema, side by side. */
async function openPair(): Promise<Pair> {
  const dir = tempDir('kheish-counters-pg-');
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const liteStore = await Store.open({ stateRoot: dir });
  const schema = await freshSchema();
  cleanups.push(() => schema.drop());
  const pgStore = await Store.open({ stateRoot: dir, databaseUrl: schema.url, poolSize: 2 });
  const client = new pg.Client({ connectionString: schema.url });
  await client.connect();
  const lite = openStateDb(dir);
  lite.pragma('synchronous = OFF');
  cleanups.push(async () => {
    lite.close();
    await client.end();
    await pgStore.close();
    await liteStore.close();
  });
  return { lite, liteStore, pgStore, client, schema };
}

/** Ops applied to both stores, each in one committed transaction. */
async function applyBoth(p: Pair, ops: Op[]): Promise<void> {
  p.lite.exec('begin');
  await p.client.query('begin');
  for (const op of ops) {
    applyOp(p.lite, op);
    await applyOpPg(p.client, op);
  }
  p.lite.exec('commit');
  await p.client.query('commit');
}

/**
 * One op on PostgreSQL, inside a transaction; a constraint failure is undone by its savepoint, as
 * SQLite undoes the failed statement.
 */
async function applyOpPg(client: pg.Client, op: Op): Promise<void> {
  const [text, args] = statementOf(op);
  await client.query('savepoint op');
  try {
    await client.query(numberedPlaceholders(text), args);
    await client.query('release savepoint op');
  } catch (err) {
    await client.query('rollback to savepoint op');
    if (!/constraint/i.test(String(err))) throw err;
  }
}

async function pgCounters(client: pg.Client): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const r of (await client.query('select name, value from counters where value <> 0')).rows)
    out[r.name] = Number(r.value);
  return out;
}

/** Every row of the followed tables, keyed columns in a fixed order, for both dialects. */
async function rowsOf(p: Pair): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const t of TABLES) {
    const lite = p.lite.prepare(`select * from ${t}`).all() as Array<Record<string, unknown>>;
    const pgRows = (await p.client.query(`select * from ${t}`)).rows as Array<Record<string, unknown>>;
    const line = (r: Record<string, unknown>) =>
      JSON.stringify(Object.keys(r).map((k) => (r[k] === null ? null : String(r[k]))));
    out[`sqlite ${t}`] = lite.map(line).sort();
    out[`postgres ${t}`] = pgRows.map(line).sort();
  }
  return out;
}

async function assertSameState(p: Pair): Promise<void> {
  const rows = await rowsOf(p);
  for (const t of TABLES) assert.deepEqual(rows[`postgres ${t}`], rows[`sqlite ${t}`], `rows of ${t}`);
  const expected = expectedCounters(p.lite);
  assert.deepEqual(actualCounters(p.lite), expected, 'SQLite counters');
  assert.deepEqual(await pgCounters(p.client), expected, 'PostgreSQL counters');
}

test('PostgreSQL counters equal SQLite counters and a fresh count through random writes and rollbacks', async () => {
  const p = await openPair();
  const wipe = async () => {
    for (const t of TABLES) {
      p.lite.exec(`delete from ${t}`);
      await p.client.query(`delete from ${t}`);
    }
  };
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(fc.array(opArb, { minLength: 1, maxLength: 30 }), fc.boolean()), {
        minLength: 1,
        maxLength: 6,
      }),
      async (chunks: Array<[Op[], boolean]>) => {
        for (const [ops, commit] of chunks) {
          p.lite.exec('begin');
          await p.client.query('begin');
          for (const op of ops) {
            applyOp(p.lite, op);
            await applyOpPg(p.client, op);
          }
          p.lite.exec(commit ? 'commit' : 'rollback');
          await p.client.query(commit ? 'commit' : 'rollback');
          await assertSameState(p);
        }
        await wipe();
        assert.deepEqual(await pgCounters(p.client), {});
      },
    ),
    {
      numRuns: Number(process.env.KHEISH_COUNTERS_RUNS ?? 25),
      seed: Number(process.env.KHEISH_SEED ?? Date.now()),
    },
  );
});

test('the status reads give the same figures on PostgreSQL as on SQLite', async () => {
  const p = await openPair();
  const ops = fc.sample(opArb, { numRuns: 300, seed: 7 });
  const first: Op[] = [];
  for (let k = 0; k < 4; k++)
    first.push(
      { t: 'session', k, v: k * 7919 },
      { t: 'run', k, v: k * 104_729 + 3 },
      { t: 'agent', k, v: 16 },
    );
  await applyBoth(p, [...first, ...ops]);
  await assertSameState(p);
  const reads = async (db: Store['db']) => ({
    runs: await countRunsByStatus(db),
    usage: await runUsageTotals(db),
    sessions: await countSessions(db),
    tasks: await countTasksByStatus(db),
    agents: await agentCounts(db),
    approvals: await countPendingApprovals(db),
    questions: await countPendingQuestions(db),
    schedules: await countSchedulesByStatus(db),
    activity: await scheduleActivityCounts(db),
  });
  const lite = await reads(p.liteStore.db);
  assert.ok(lite.usage.cost_usd! > 0 && lite.sessions.total > 0, 'a varied history');
  assert.deepEqual(await reads(p.pgStore.db), lite);
});

test('a malformed usage text counts as no usage on PostgreSQL instead of failing the run write', async () => {
  const p = await openPair();
  await applyBoth(p, [
    { t: 'session', k: 1, v: 0 },
    { t: 'run', k: 1, v: 1 },
  ]);
  for (const usage of [
    '{not json',
    '[1, 2]',
    '{"model_calls": "two", "cost_usd": true}',
    '{"model_calls":2,"input_tokens":5,"total_tokens":5,"cost_usd":0.1}',
    '{"cost_usd":0.0000000025}',
    '{"cost_usd":-0.0000000025}',
  ]) {
    p.lite.prepare("update runs set usage = ? where run_id = 'run-1'").run(usage);
    await p.client.query("update runs set usage = $1 where run_id = 'run-1'", [usage]);
    assert.deepEqual(await pgCounters(p.client), actualCounters(p.lite), usage);
  }
});
