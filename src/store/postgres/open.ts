// PostgreSQL specifics live here only: the pool, value parsing, the schema a daemon works in, the
// advisory lock that orders writers across replicas, and the notification channel of new events.
import { Kysely } from 'kysely';
import pg from 'pg';
import type { Database } from '../schema.ts';
import { SchemaPostgresDialect } from './dialect.ts';

export interface PostgresOptions {
  url: string;
  /** Connections in the pool (writes use one at a time; reads, replay and status share the rest). */
  poolSize: number;
  /**
   * The server ends a session left idle inside a transaction this long. A replica frozen (or cut
   * off) in the middle of a write group holds the write lock of every replica; this bounds how long.
   */
  idleInTransactionMs: number;
}

export interface PostgresHandle {
  db: Kysely<Database>;
  pool: pg.Pool;
  /** The URL as given (with its password): for the dedicated LISTEN connection only. */
  url: string;
  /** The URL without its password, for logs and /v1/status. */
  location: string;
  /** The schema the tables live in (the first of the connection's search_path). */
  schema: string;
  /** Key of the transaction-level advisory lock every write group takes first (see store.ts). */
  writeLockKey: number;
  /** LISTEN/NOTIFY channel on which a committed group with events wakes every replica. */
  eventsChannel: string;
  close(): Promise<void>;
}

/** bigint (int8) and numeric as JS numbers: ids, counts and ms timestamps stay below 2^53. */
const INT8_OID = 20;
const NUMERIC_OID = 1700;
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID || oid === NUMERIC_OID) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

/** A client outside the pool (LISTEN holds its connection for the life of the replica). */
export function dedicatedClient(handle: PostgresHandle): pg.Client {
  return new pg.Client({ connectionString: handle.url, types, application_name: 'kheish-daemon-listen' });
}

export class DatabaseUnavailableError extends Error {}

/** Opens the pool and checks the server answers; a wrong URL fails here with a plain message. */
export async function openPostgres(opts: PostgresOptions): Promise<PostgresHandle> {
  const location = redactUrl(opts.url);
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.poolSize,
    types,
    connectionTimeoutMillis: 5000,
    // A statement stuck behind a lock for this long is a fault, not a wait (fails the writer).
    statement_timeout: 60_000,
    idle_in_transaction_session_timeout: opts.idleInTransactionMs,
    application_name: 'kheish-daemon',
  });
  // A client losing its server (database restarted, session ended by the server) must not crash
  // the process: idle ones report on the pool, checked-out ones on themselves (their query fails).
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  let schema: string;
  try {
    const { rows } = await pool.query<{ schema: string | null }>('SELECT current_schema() AS schema');
    schema = rows[0]?.schema ?? '';
    if (!schema)
      throw new Error('the connection has no schema to create tables in (check search_path in the URL)');
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new DatabaseUnavailableError(`cannot use PostgreSQL at ${location}: ${describePgError(err)}`);
  }
  const db = new Kysely<Database>({ dialect: new SchemaPostgresDialect({ pool }) });
  const hash = fnv1a(schema);
  return {
    db,
    pool,
    url: opts.url,
    location,
    schema,
    writeLockKey: hash,
    eventsChannel: `kheish_events_${(hash >>> 0).toString(16)}`,
    close: async () => {
      await db.destroy();
    },
  };
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable url)';
  }
}

export function describePgError(err: unknown): string {
  const e = err as { code?: string; message?: string; errors?: Array<{ message?: string }> };
  // An AggregateError (every address refused) has an empty message of its own.
  const msg = e?.message || e?.errors?.map((x) => x.message).join('; ') || String(err);
  return e?.code ? `${msg} (${e.code})` : msg;
}

/** A stable 32-bit signed key per schema: replicas of one system share it, other schemas do not. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}
