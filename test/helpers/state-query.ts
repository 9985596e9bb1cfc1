// A read-only look at a test daemon's durable state, on whichever store it runs: the state root's
// SQLite file, or its PostgreSQL schema. Tests write SQL both dialects accept, with `?` placeholders.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { TestDaemon } from './daemon.ts';

export type StateOwner = Pick<TestDaemon, 'stateRoot' | 'databaseUrl'>;

export async function queryState<T = any>(
  daemon: StateOwner,
  sqlText: string,
  params: unknown[] = [],
): Promise<T[]> {
  if (daemon.databaseUrl) {
    const client = new pg.Client({ connectionString: daemon.databaseUrl, connectionTimeoutMillis: 5000 });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return (await client.query(numberedPlaceholders(sqlText), params)).rows as T[];
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  const db = new Database(join(daemon.stateRoot, 'kheish.sqlite'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sqlText).all(...params) as T[];
  } finally {
    db.close();
  }
}

/** A JSON column's value: text on SQLite, already parsed where PostgreSQL stores json/jsonb. */
export const jsonColumn = (value: unknown): any => (typeof value === 'string' ? JSON.parse(value) : value);

/** `?` → `$1, $2, …` outside quoted literals and identifiers. */
export function numberedPlaceholders(sqlText: string): string {
  let n = 0;
  let quote: string | null = null;
  let out = '';
  for (const ch of sqlText) {
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '?') {
      out += `$${++n}`;
      continue;
    }
    out += ch;
  }
  return out;
}

/** Journal payloads of one run and kind, in journal order. */
export async function journalPayloads(daemon: StateOwner, runId: string, kind: string): Promise<any[]> {
  const rows = await queryState<{ payload: unknown }>(
    daemon,
    'select payload from journal where run_id = ? and kind = ? order by seq',
    [runId, kind],
  );
  return rows.map((r) => jsonColumn(r.payload));
}
