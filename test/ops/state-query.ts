// Reads a test daemon's rows directly, on whichever store it runs (SQLite file or PostgreSQL
// schema), so the ops tests assert the same things on both. Placeholders are written `?`.
import Database from 'better-sqlite3';
import pg from 'pg';
import type { TestDaemon } from '../helpers/daemon.ts';

export async function queryState<T = Record<string, unknown>>(
  d: Pick<TestDaemon, 'stateRoot' | 'databaseUrl'>,
  sqlText: string,
  params: unknown[] = [],
): Promise<T[]> {
  if (!d.databaseUrl) {
    const db = new Database(`${d.stateRoot}/kheish.sqlite`, { readonly: true });
    try {
      return db.prepare(sqlText).all(...params) as T[];
    } finally {
      db.close();
    }
  }
  let n = 0;
  const client = new pg.Client({ connectionString: d.databaseUrl });
  await client.connect();
  try {
    const rows = (
      await client.query(
        sqlText.replace(/\?/g, () => `$${++n}`),
        params,
      )
    ).rows as T[];
    // PostgreSQL returns BIGINT as text: numbers as SQLite gives them.
    return rows.map((r) =>
      Object.fromEntries(
        Object.entries(r as Record<string, unknown>).map(([k, v]) => [
          k,
          typeof v === 'string' && /^\d+$/.test(v) && k !== 'payload' ? Number(v) : v,
        ]),
      ),
    ) as T[];
  } finally {
    await client.end();
  }
}

/** `--database-url <url>` for CLI commands when the daemon runs on PostgreSQL. */
export const storeArgs = (d: Pick<TestDaemon, 'databaseUrl'>): string[] =>
  d.databaseUrl ? ['--database-url', d.databaseUrl] : [];
