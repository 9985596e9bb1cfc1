// SQLite specifics live here only: file location, pragmas, the single-writer lock.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from '../schema.ts';

export type SqliteSync = 'FULL' | 'NORMAL';

export interface SqliteHandle {
  db: Kysely<Database>;
  path: string;
  close(): Promise<void>;
}

export function openSqlite(stateRoot: string, sync: SqliteSync = 'FULL'): SqliteHandle {
  mkdirSync(stateRoot, { recursive: true });
  const path = join(stateRoot, 'kheish.sqlite');
  const raw = new BetterSqlite3(path);
  raw.pragma('journal_mode = WAL');
  raw.pragma(`synchronous = ${sync}`);
  raw.pragma('busy_timeout = 5000');
  raw.pragma('foreign_keys = ON');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(raw) }) });
  return {
    db,
    path,
    close: async () => {
      await db.destroy();
    },
  };
}

/** Distinct SQL texts kept compiled; the daemon issues a few hundred shapes, so this never churns. */
const STATEMENT_CACHE_SIZE = 1000;

/**
 * Kysely calls `prepare()` for every query, and compiling the statement was the largest single
 * cost of a durable step in the profile (docs/performance.md). A compiled statement is reusable
 * (parameters are bound per call; SQLite re-prepares it by itself after a schema change), and
 * nothing here iterates a statement lazily, so the same SQL text gets the same statement back.
 */
function withStatementCache(raw: BetterSqlite3.Database): BetterSqlite3.Database {
  const cache = new Map<string, BetterSqlite3.Statement>();
  const prepare = raw.prepare.bind(raw);
  const cachedPrepare = (sql: string): BetterSqlite3.Statement => {
    const hit = cache.get(sql);
    if (hit) return hit;
    const stmt = prepare(sql);
    if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    cache.set(sql, stmt);
    return stmt;
  };
  return new Proxy(raw, {
    get(target, prop) {
      if (prop === 'prepare') return cachedPrepare;
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

export class StateRootLockedError extends Error {}

/**
 * Holds an exclusive SQLite lock on `<state_root>/daemon.lock` for the life of the process.
 * The OS drops the lock when the process dies (even on SIGKILL), so a crashed daemon never
 * leaves a stale lock behind, while a live one keeps a second daemon out.
 */
export function acquireStateRootLock(stateRoot: string): { release(): void; owner: string } {
  mkdirSync(stateRoot, { recursive: true });
  const lockPath = join(stateRoot, 'daemon.lock');
  const lock = new BetterSqlite3(lockPath, { timeout: 0 });
  try {
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.exec('CREATE TABLE IF NOT EXISTS owner (pid INTEGER, started_at_ms INTEGER)');
    lock.exec('BEGIN EXCLUSIVE');
    lock.exec('DELETE FROM owner');
    lock.prepare('INSERT INTO owner VALUES (?, ?)').run(process.pid, Date.now());
    lock.exec('COMMIT');
  } catch (err) {
    lock.close();
    if (
      String((err as Error).message).includes('locked') ||
      (err as { code?: string }).code === 'SQLITE_BUSY'
    ) {
      throw new StateRootLockedError(
        `state root ${stateRoot} is already in use by another kheish-daemon process; stop it first or pass a different --state-root`,
      );
    }
    throw err;
  }
  writeFileSync(join(stateRoot, 'daemon.pid'), `${process.pid}\n`);
  return {
    owner: `pid ${process.pid}`,
    release: () => lock.close(),
  };
}
