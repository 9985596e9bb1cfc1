// Which SQL dialect a Kysely handle speaks, and that dialect's DDL helpers (src/store/sqlite/ddl.ts,
// src/store/postgres/ddl.ts export the same functions), so migrations stay one file per change.
import { type Kysely, PostgresAdapter, SqliteAdapter } from 'kysely';
import * as postgresDdl from './postgres/ddl.ts';
import * as sqliteDdl from './sqlite/ddl.ts';

export type SqlDialect = 'sqlite' | 'postgres';

export function dialectOf(db: Kysely<any>): SqlDialect {
  const adapter = db.getExecutor().adapter;
  if (adapter instanceof SqliteAdapter) return 'sqlite';
  if (adapter instanceof PostgresAdapter) return 'postgres';
  throw new Error(`unsupported SQL dialect (${adapter.constructor.name})`);
}

export type DialectDdl = typeof sqliteDdl;

/** SQL pieces the counter triggers of migration 0011 are written with; each dialect renders them. */
export interface CounterSyntax {
  /** `name += delta`, creating the row on first use; a zero delta writes nothing. */
  bump(name: string, delta: string): string;
  /** A condition as the integer 1 or 0. */
  int(condition: string): string;
  /** NULL-safe "differs". */
  isNot(a: string, b: string): string;
  /** The text as JSON if it is valid JSON, else NULL (a malformed usage counts as none). */
  valid(text: string): string;
  /** A numeric field of a `valid()` JSON value, 0 when absent or NULL. */
  field(json: string, path: string): string;
  /** `cost_usd` of a `valid()` JSON value as integer nano-USD, rounded as SQLite's round(). */
  nano(json: string): string;
}

/** A row trigger: `on` is e.g. `AFTER UPDATE OF status ON runs`; `body` are its statements. */
export interface CounterTrigger {
  name: string;
  on: string;
  table: string;
  when?: string;
  body: string[];
}

/** The DDL helpers of `db`'s dialect (both modules have the same exports; the type checks it). */
export function ddlOf(db: Kysely<any>): DialectDdl {
  const pg: DialectDdl = postgresDdl;
  return dialectOf(db) === 'postgres' ? pg : sqliteDdl;
}
