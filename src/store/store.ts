// The store: one database handle plus a serialized write path.
// Every write goes through `write()`, which commits one transaction and then runs its
// after-commit callbacks before the next write starts. That gives one total order of commits,
// and live subscribers see events in exactly that order (nothing is published before it is durable).
import { Migrator } from 'kysely/migration';
import { migrationProvider } from './migrations/index.ts';
import type { Db, Tx } from './schema.ts';
import { openSqlite, type SqliteSync } from './sqlite/open.ts';

export interface WriteTx {
  db: Tx;
  now: number;
  afterCommit(cb: () => void): void;
}

export interface StoreOptions {
  stateRoot: string;
  sync?: SqliteSync;
}

export class Store {
  readonly db: Db;
  readonly dialect = 'sqlite' as const;
  readonly location: string;
  private readonly closeHandle: () => Promise<void>;
  private tail: Promise<unknown> = Promise.resolve();
  writeErrors = 0;

  private constructor(db: Db, location: string, close: () => Promise<void>) {
    this.db = db;
    this.location = location;
    this.closeHandle = close;
  }

  static async open(opts: StoreOptions): Promise<Store> {
    const handle = openSqlite(opts.stateRoot, opts.sync ?? 'FULL');
    const store = new Store(handle.db, handle.path, handle.close);
    await store.migrate();
    return store;
  }

  private async migrate(): Promise<void> {
    const migrator = new Migrator({
      db: this.db,
      provider: migrationProvider,
      allowUnorderedMigrations: true,
    });
    const { error } = await migrator.migrateToLatest();
    if (error) throw error;
  }

  /** Runs `fn` in one transaction, serialized with every other write. */
  write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      const callbacks: Array<() => void> = [];
      let result: T;
      try {
        result = await this.db
          .transaction()
          .execute((trx) => fn({ db: trx, now: Date.now(), afterCommit: (cb) => callbacks.push(cb) }));
      } catch (err) {
        this.writeErrors += isDomainError(err) ? 0 : 1;
        throw err;
      }
      for (const cb of callbacks) cb();
      return result;
    };
    const next = this.tail.then(run, run);
    this.tail = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    await this.tail.catch(() => undefined);
    await this.closeHandle();
  }
}

const isDomainError = (err: unknown) => (err as { name?: string })?.name === 'DaemonError';
