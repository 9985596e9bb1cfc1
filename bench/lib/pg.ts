// PostgreSQL for the benchmarks: the machine's server (KHEISH_TEST_DATABASE_URL or the local `test`
// database), one fresh schema per measurement (dropped afterwards), the server's own commit counter
// and the bare commit floor. URL and admin helpers are the tests' (test/helpers/pg-schema.ts).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { adminQuery as testAdminQuery, withSearchPath } from '../../test/helpers/pg-schema.ts';
import { ROOT } from './daemon.ts';
import { Budget, type Summary, sleep, summarize } from './stats.ts';

export const DATABASE_URL = process.env.KHEISH_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * PostgreSQL 15+ keeps a backend's statistics (pg_stat_database.xact_commit among them) in the
 * backend until it flushes them: at most once a second while busy, else when the backend has been
 * idle for 10 s (PGSTAT_IDLE_INTERVAL) or when it exits. Waiting this long with the daemons idle
 * makes the counter include every transaction they ran before.
 */
export const STATS_SETTLE_MS = 11_000;

export { withSearchPath };

/** One statement on a short-lived connection (schemas, statistics), on the bench's database. */
export const adminQuery = <T extends pg.QueryResultRow = any>(
  sqlText: string,
  params: unknown[] = [],
  url = DATABASE_URL,
) => testAdminQuery<T>(sqlText, params, url);

export interface BenchSchema {
  /** DATABASE_URL with the schema as its search_path: what the daemons get. */
  url: string;
  schema: string;
  drop(): Promise<void>;
}

/** Schemas not dropped yet: an interrupted bench (Ctrl-C) drops them on its way out. */
const live = new Map<string, string>();
let guarded = false;

function dropLeftSchemas(): void {
  const script =
    "import pg from 'pg'; const c = new pg.Client({ connectionString: process.argv[1] });" +
    ' await c.connect(); await c.query(process.argv[2]); await c.end();';
  for (const [schema, base] of live)
    spawnSync(
      process.execPath,
      ['--input-type=module', '-e', script, base, `DROP SCHEMA IF EXISTS ${schema} CASCADE`],
      {
        cwd: ROOT,
        stdio: 'ignore',
        timeout: 10_000,
      },
    );
  live.clear();
}

/** CREATE SCHEMA k_bench_<random>; `drop()` is idempotent. */
export async function freshSchema(base = DATABASE_URL): Promise<BenchSchema> {
  const schema = `k_bench_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE SCHEMA ${schema}`, [], base);
  live.set(schema, base);
  if (!guarded) {
    guarded = true;
    process.once('exit', dropLeftSchemas);
  }
  return {
    url: withSearchPath(base, schema),
    schema,
    drop: async () => {
      if (!live.delete(schema)) return;
      await adminQuery(`DROP SCHEMA IF EXISTS ${schema} CASCADE`, [], base);
    },
  };
}

/** Runs `fn` on a fresh schema and drops it afterwards, whatever happened. */
export async function withSchema<T>(fn: (s: BenchSchema) => Promise<T>): Promise<T> {
  const s = await freshSchema();
  try {
    return await fn(s);
  } finally {
    await s.drop().catch((err) => process.stderr.write(`[bench] drop schema ${s.schema}: ${err}\n`));
  }
}

export interface ServerInfo {
  version: string;
  synchronous_commit: string;
  fsync: string;
  wal_sync_method: string;
  commit_delay: string;
  max_connections: string;
}

export async function serverInfo(): Promise<ServerInfo> {
  const rows = await adminQuery<{ name: string; setting: string }>(
    `SELECT name, setting FROM pg_settings
      WHERE name IN ('server_version', 'synchronous_commit', 'fsync', 'wal_sync_method', 'commit_delay', 'max_connections')`,
  );
  const s = Object.fromEntries(rows.map((r) => [r.name, r.setting]));
  return {
    version: s.server_version ?? 'unknown',
    synchronous_commit: s.synchronous_commit ?? 'unknown',
    fsync: s.fsync ?? 'unknown',
    wal_sync_method: s.wal_sync_method ?? 'unknown',
    commit_delay: s.commit_delay ?? 'unknown',
    max_connections: s.max_connections ?? 'unknown',
  };
}

/** The database's transaction counters (every client of it, not only the daemons under test). */
export interface XactCount {
  commit: number;
  rollback: number;
}

export async function xactCount(base = DATABASE_URL): Promise<XactCount> {
  const [row] = await adminQuery<{ c: string; r: string }>(
    'SELECT xact_commit AS c, xact_rollback AS r FROM pg_stat_database WHERE datname = current_database()',
    [],
    base,
  );
  return { commit: Number(row?.c), rollback: Number(row?.r) };
}

/** Waits until the daemons' backends have flushed their statistics, then reads the counters. */
export async function settledXactCount(settleMs = STATS_SETTLE_MS): Promise<XactCount> {
  await sleep(settleMs);
  return xactCount();
}

export interface PgFloorResult {
  /** Single-row autocommit INSERTs, one client over loopback: a commit's round trip + WAL flush. */
  commit_ms: Summary;
  /** `SELECT 1`: the round trip alone, which every statement of a write group pays. */
  roundtrip_ms: Summary;
  payload_bytes: number;
}

/** The PostgreSQL counterpart of bench/floor.ts, in the measurement's own schema. */
export async function runPgFloor(url: string, commits: number, budgetMs: number): Promise<PgFloorResult> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query('CREATE TABLE bench_floor (id bigserial PRIMARY KEY, payload text NOT NULL)');
    const payload = 'x'.repeat(100);
    const insert = { name: 'bench_floor_insert', text: 'INSERT INTO bench_floor (payload) VALUES ($1)' };
    for (let i = 0; i < 50; i++) await client.query({ ...insert, values: [payload] });
    const samples: number[] = [];
    const budget = new Budget(budgetMs);
    while (samples.length < commits && !budget.expired) {
      const t0 = performance.now();
      await client.query({ ...insert, values: [payload] });
      samples.push(performance.now() - t0);
    }
    const trips: number[] = [];
    const select = { name: 'bench_floor_select', text: 'SELECT 1' };
    for (let i = 0; i < 50; i++) await client.query(select);
    const tripBudget = new Budget(budgetMs);
    while (trips.length < commits && !tripBudget.expired) {
      const t0 = performance.now();
      await client.query(select);
      trips.push(performance.now() - t0);
    }
    await client.query('DROP TABLE bench_floor');
    return { commit_ms: summarize(samples), roundtrip_ms: summarize(trips), payload_bytes: payload.length };
  } finally {
    await client.end().catch(() => undefined);
  }
}
