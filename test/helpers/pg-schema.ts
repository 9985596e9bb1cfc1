// PostgreSQL for tests: the machine's server (KHEISH_TEST_DATABASE_URL or the local `test` database),
// one fresh schema per test or daemon so tests sharing the server never see each other's rows.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import pg from 'pg';

export const TEST_DATABASE_URL =
  process.env.KHEISH_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** The suites run against PostgreSQL (KHEISH_TEST_STORE=postgres) instead of the state root's SQLite. */
export const testStoreIsPostgres = (): boolean => process.env.KHEISH_TEST_STORE === 'postgres';

export interface FreshSchema {
  /** `base` with `options=-c search_path=<schema>` merged into its query. */
  url: string;
  schema: string;
  /** DROP SCHEMA … CASCADE; idempotent. */
  drop(): Promise<void>;
  /** The same for process-exit handlers, which cannot wait for a promise. */
  dropSync(): void;
}

/** `k_` + 12 random hex digits: a valid unquoted identifier. */
export const randomSchemaName = (prefix = 'k_'): string => `${prefix}${randomBytes(6).toString('hex')}`;

/** Adds `-c search_path=<schema>` to the URL's `options` (keeping any options and parameters it had). */
export function withSearchPath(base: string, schema: string): string {
  const u = new URL(base);
  const prior = u.searchParams.get('options');
  u.searchParams.delete('options');
  const rest = u.search.slice(1);
  u.search = '';
  const options = encodeURIComponent(`${prior ? `${prior} ` : ''}-c search_path=${schema}`);
  return `${u.toString()}?${rest ? `${rest}&` : ''}options=${options}`;
}

/** One statement on a short-lived connection (admin work: schemas, databases). */
export async function adminQuery<T extends pg.QueryResultRow = any>(
  sqlText: string,
  params: unknown[] = [],
  url = TEST_DATABASE_URL,
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  // A server-side termination of this short-lived client must fail its query, not the process.
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<T>(sqlText, params)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function freshSchema(base = TEST_DATABASE_URL): Promise<FreshSchema> {
  const schema = randomSchemaName();
  await adminQuery(`CREATE SCHEMA ${schema}`, [], base);
  let dropped = false;
  const sqlText = `DROP SCHEMA IF EXISTS ${schema} CASCADE`;
  return {
    url: withSearchPath(base, schema),
    schema,
    drop: async () => {
      if (dropped) return;
      dropped = true;
      await adminQuery(sqlText, [], base);
    },
    dropSync: () => {
      if (dropped) return;
      dropped = true;
      runSync(sqlText, base);
    },
  };
}

/** Runs one statement in a child Node process and waits for it (for exit handlers). */
function runSync(sqlText: string, url: string): void {
  const script =
    "import pg from 'pg'; const c = new pg.Client({ connectionString: process.argv[1] });" +
    ' await c.connect(); await c.query(process.argv[2]); await c.end();';
  spawnSync(process.execPath, ['--input-type=module', '-e', script, url, sqlText], {
    cwd: resolve(import.meta.dirname, '../..'),
    stdio: 'ignore',
    timeout: 10_000,
  });
}
