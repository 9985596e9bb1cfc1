// The store: one database handle plus a serialized write path with group commit.
// Every write goes through `write()`. Writers that are ready together share one transaction and
// one fsync (each inside its own savepoint, so one writer's error rolls back only its own rows);
// each caller's promise settles only after that commit, and the after-commit callbacks run in
// commit order before the next group starts. That gives one total order of commits, and live
// subscribers see events in exactly that order (nothing is published before it is durable).
import { sql } from 'kysely';
import { Migrator } from 'kysely/migration';
import { type GroupCommitFault, groupCommitFault } from './group-commit-fault.ts';
import { JournalTails } from './journal-tail.ts';
import { migrationProvider } from './migrations/index.ts';
import { openPostgres, type PostgresHandle } from './postgres/open.ts';
import type { Db, Tx } from './schema.ts';
import { openSqlite, type SqliteSync } from './sqlite/open.ts';
import { isStorageUnavailable, storageUnavailable } from './unavailable.ts';

export interface WriteTx {
  db: Tx;
  now: number;
  afterCommit(cb: () => void): void;
  /** Runs if this writer's changes are rolled back (its own error, or the group's commit failing). */
  onRollback(cb: () => void): void;
  /** This writer inserted events: other replicas are told when the group commits (PostgreSQL). */
  markEvents(): void;
  /**
   * Runs `fn` so that its failure undoes only its own statements and the writer can go on: on
   * PostgreSQL a failed statement otherwise aborts the whole transaction.
   */
  savepoint<T>(fn: () => Promise<T>): Promise<T>;
}

export interface StoreOptions {
  stateRoot: string;
  sync?: SqliteSync;
  /** A PostgreSQL URL: the shared store of several replicas instead of the state root's SQLite file. */
  databaseUrl?: string | null;
  /** PostgreSQL pool size (default 10). */
  poolSize?: number;
  /** PostgreSQL: how long a write group may sit idle in its transaction before the server ends it (default 15 s). */
  idleInTransactionMs?: number;
}

export type StoreDialect = 'sqlite' | 'postgres';

/**
 * `ack`: the write acknowledges a caller (a submit's 202): it goes first into the next group, so
 * it never waits behind a queue of executor steps, only behind the group already committing.
 */
export type WritePriority = 'ack' | 'normal';

interface PendingWrite {
  fn: (tx: WriteTx) => Promise<unknown>;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

/** A group stops taking writers past either bound, so the commit of the writers in it is never late. */
const GROUP_MAX_WRITERS = 64;
const GROUP_MAX_BUSY_MS = 8;
/**
 * On PostgreSQL a writer's statements are network round trips (a submit is about forty, ~10 ms),
 * and other replicas wait for the write lock anyway: with SQLite's 8 ms every group closed after
 * its first writer and writes never batched (docs/scale-out.md). The bound is wall time, not CPU.
 */
const GROUP_MAX_BUSY_MS_POSTGRES = 50;
/** Pauses between attempts while the database does not answer (doubling up to the last). */
const OUTAGE_BACKOFF_MS = [50, 100, 250, 500, 1000, 2000];

export class Store {
  readonly db: Db;
  readonly dialect: StoreDialect;
  readonly location: string;
  /** The PostgreSQL pool, lock key and channel; null on SQLite. */
  readonly postgres: PostgresHandle | null;
  /** Per-session journal sequence numbers and recent entries, kept in step with commits. */
  readonly journal: JournalTails;
  private readonly closeHandle: () => Promise<void>;
  private readonly acks: PendingWrite[] = [];
  private readonly others: PendingWrite[] = [];
  private draining: Promise<void> | null = null;
  /** Consecutive groups that could not even begin (the database does not answer). */
  private outage = 0;
  private readonly fault: GroupCommitFault;
  private readonly groupBusyMs: number;
  writeErrors = 0;
  /** Group-commit figures for /v1/status and the benchmarks. */
  readonly groupStats = { groups: 0, writers: 0, max_writers: 0 };
  /** Told each committed group's duration (seconds, BEGIN to COMMIT) and size: GET /metrics. */
  onGroupCommit: ((seconds: number, writers: number) => void) | null = null;

  private constructor(
    db: Db,
    location: string,
    close: () => Promise<void>,
    fault: GroupCommitFault,
    postgres: PostgresHandle | null,
  ) {
    this.db = db;
    this.location = location;
    this.closeHandle = close;
    this.postgres = postgres;
    this.dialect = postgres ? 'postgres' : 'sqlite';
    this.groupBusyMs = postgres ? GROUP_MAX_BUSY_MS_POSTGRES : GROUP_MAX_BUSY_MS;
    // Another replica may append to a session between two of ours: the tails re-check the database.
    this.journal = new JournalTails(db, { shared: postgres !== null });
    this.fault = fault;
  }

  static async open(opts: StoreOptions): Promise<Store> {
    const fault = groupCommitFault(opts.stateRoot);
    let store: Store;
    if (opts.databaseUrl) {
      const pg = await openPostgres({
        url: opts.databaseUrl,
        poolSize: opts.poolSize ?? 10,
        idleInTransactionMs: opts.idleInTransactionMs ?? 15_000,
      });
      store = new Store(pg.db, pg.location, pg.close, fault, pg);
    } else {
      const handle = openSqlite(opts.stateRoot, opts.sync ?? 'FULL');
      store = new Store(handle.db, handle.path, handle.close, fault, null);
    }
    try {
      await store.migrate();
    } catch (err) {
      await store.closeHandle().catch(() => undefined);
      throw err;
    }
    return store;
  }

  private async migrate(): Promise<void> {
    const migrator = new Migrator({
      db: this.db,
      provider: migrationProvider,
      allowUnorderedMigrations: true,
      // Kysely looks for its bookkeeping tables by name in every schema: name ours, or another
      // system's tables in the same database (tests, other tenants) pass for this one's.
      ...(this.postgres ? { migrationTableSchema: this.postgres.schema } : {}),
    });
    const { error } = await migrator.migrateToLatest();
    if (error) throw error;
  }

  /** Runs `fn` in a transaction (possibly shared with other writers), serialized with every other write. */
  /** Crash tests only (KHEISH_FAULT_KILL_IN_GROUP_COMMIT): the fault counts groups from now on. */
  armFaults(): void {
    this.fault.arm();
  }

  write<T>(fn: (tx: WriteTx) => Promise<T>, priority: WritePriority = 'normal'): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const pending: PendingWrite = { fn, resolve: resolve as (v: unknown) => void, reject };
      (priority === 'ack' ? this.acks : this.others).push(pending);
      this.draining ??= this.drain();
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.acks.length > 0 || this.others.length > 0) {
        // The group's window: one turn of the event loop, so requests and executors that are
        // ready now (SQLite calls block the loop while a group runs) add their writes to it.
        await new Promise<void>((resolve) => setImmediate(resolve));
        await this.commitGroup();
        // The database did not answer: the waiting writers were refused (503); pause before the
        // next attempt instead of hammering the server with connection attempts.
        if (this.outage > 0)
          await new Promise<void>((resolve) =>
            setTimeout(resolve, OUTAGE_BACKOFF_MS[Math.min(this.outage, OUTAGE_BACKOFF_MS.length) - 1]),
          );
      }
    } finally {
      this.draining = null;
    }
  }

  private next(): PendingWrite | undefined {
    return this.acks.shift() ?? this.others.shift();
  }

  /** One transaction: every writer in its own savepoint, then one COMMIT; then callbacks and answers. */
  private async commitGroup(): Promise<void> {
    const done: Array<{ w: PendingWrite; ok: boolean; value: unknown; tx: WriterState }> = [];
    const started = performance.now();
    let current: PendingWrite | undefined;
    let begun = false;
    try {
      await this.db.transaction().execute(async (trx) => {
        begun = true;
        // PostgreSQL: one writing transaction at a time across every replica of this schema, so
        // event ids (and journal and queue sequences) are handed out in commit order: a reader
        // that has seen id N never sees a smaller id commit later (docs/decisions.md).
        if (this.postgres)
          await sql`SELECT pg_advisory_xact_lock(${this.postgres.writeLockKey})`.execute(trx);
        let w = this.next();
        while (w) {
          current = w;
          const state = new WriterState(trx);
          await sql.raw('savepoint w').execute(trx);
          try {
            const value = await w.fn(state.tx);
            await sql.raw('release savepoint w').execute(trx);
            done.push({ w, ok: true, value, tx: state });
          } catch (err) {
            await sql.raw('rollback to savepoint w').execute(trx);
            await sql.raw('release savepoint w').execute(trx);
            state.rolledBack();
            done.push({ w, ok: false, value: err, tx: state });
          }
          current = undefined;
          if (done.length >= GROUP_MAX_WRITERS || performance.now() - started > this.groupBusyMs) break;
          w = this.next();
        }
        if (this.postgres && done.some((d) => d.ok && d.tx.events))
          await sql`SELECT pg_notify(${this.postgres.eventsChannel}, '')`.execute(trx);
        this.fault.at('before', done.filter((d) => d.ok).length);
      });
      this.fault.at('after', done.filter((d) => d.ok).length);
    } catch (err) {
      if (!begun && isStorageUnavailable(err)) {
        // No transaction: every writer waiting now gets a 503 at once rather than hanging; an
        // outage counts as one write error, not one per attempt.
        if (this.outage++ === 0) this.writeErrors += 1;
        const refusal = storageUnavailable(err);
        for (let w = this.next(); w; w = this.next()) w.reject(refusal);
        return;
      }
      // The commit itself failed (disk full, I/O error): nobody's write is durable.
      this.writeErrors += 1;
      for (const d of done) {
        if (d.ok) d.tx.rolledBack();
        d.w.reject(err);
      }
      current?.reject(err);
      return;
    }
    this.outage = 0;
    this.onGroupCommit?.((performance.now() - started) / 1000, done.length);
    this.groupStats.groups += 1;
    this.groupStats.writers += done.length;
    this.groupStats.max_writers = Math.max(this.groupStats.max_writers, done.length);
    for (const d of done) {
      if (!d.ok) {
        this.writeErrors += isExpected(d.value) ? 0 : 1;
        d.w.reject(d.value);
        continue;
      }
      for (const cb of d.tx.callbacks) runCallback(cb);
      d.w.resolve(d.value);
    }
  }

  async close(): Promise<void> {
    while (this.draining) await this.draining.catch(() => undefined);
    await this.closeHandle();
  }
}

class WriterState {
  readonly callbacks: Array<() => void> = [];
  private readonly rollbacks: Array<() => void> = [];
  readonly tx: WriteTx;
  events = false;
  private nested = 0;

  constructor(trx: Tx) {
    this.tx = {
      db: trx,
      now: Date.now(),
      afterCommit: (cb) => this.callbacks.push(cb),
      onRollback: (cb) => this.rollbacks.push(cb),
      markEvents: () => {
        this.events = true;
      },
      savepoint: async (fn) => {
        const name = `n${++this.nested}`;
        await sql.raw(`savepoint ${name}`).execute(trx);
        try {
          const value = await fn();
          await sql.raw(`release savepoint ${name}`).execute(trx);
          return value;
        } catch (err) {
          await sql.raw(`rollback to savepoint ${name}`).execute(trx);
          await sql.raw(`release savepoint ${name}`).execute(trx);
          throw err;
        }
      },
    };
  }

  rolledBack(): void {
    this.callbacks.length = 0;
    this.events = false;
    for (const cb of this.rollbacks) cb();
  }
}

/** An after-commit callback that throws must not stop the others nor the write path. */
function runCallback(cb: () => void): void {
  try {
    cb();
  } catch (err) {
    process.emitWarning(`after-commit callback failed: ${(err as Error).message}`);
  }
}

/**
 * A writer's refusal that is not a storage fault: a domain error (409, 404, …) or a control-flow
 * stop (`expected: true`, e.g. a run that was cancelled while its executor was writing).
 */
const isExpected = (err: unknown) => {
  const e = err as { name?: string; expected?: boolean } | undefined;
  return e?.name === 'DaemonError' || e?.expected === true;
};
