// Writes into a test daemon's durable state behind its back (tamper and fault tests), on
// whichever store it runs: the state root's SQLite file, or its PostgreSQL schema.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { numberedPlaceholders, type StateOwner } from './state-query.ts';

export async function execState(daemon: StateOwner, sqlText: string, params: unknown[] = []): Promise<void> {
  if (daemon.databaseUrl) {
    const client = new pg.Client({ connectionString: daemon.databaseUrl, connectionTimeoutMillis: 5000 });
    client.on('error', () => undefined);
    await client.connect();
    try {
      await client.query(params.length ? numberedPlaceholders(sqlText) : sqlText, params);
    } finally {
      await client.end().catch(() => undefined);
    }
    return;
  }
  const db = new Database(join(daemon.stateRoot, 'kheish.sqlite'), { fileMustExist: true });
  try {
    if (params.length) db.prepare(sqlText).run(...params);
    else db.exec(sqlText);
  } finally {
    db.close();
  }
}

/** A trigger that makes every insert into `table` fail (a ledger that cannot be written). */
export async function refuseInserts(daemon: StateOwner, table: string): Promise<void> {
  if (daemon.databaseUrl) {
    await execState(
      daemon,
      `create or replace function kheish_test_refuse() returns trigger as $$ begin raise exception 'insert refused by test trigger'; end $$ language plpgsql;
       create trigger kheish_test_refuse before insert on ${table} for each row execute function kheish_test_refuse();`,
    );
    return;
  }
  await execState(
    daemon,
    `create trigger kheish_test_refuse before insert on ${table} begin select raise(abort, 'insert refused by test trigger'); end;`,
  );
}

export async function allowInserts(daemon: StateOwner, table: string): Promise<void> {
  await execState(daemon, `drop trigger kheish_test_refuse${daemon.databaseUrl ? ` on ${table}` : ''}`);
}
