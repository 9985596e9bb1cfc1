// Where asset payloads (raw bytes, derived text, previews) live, named by their SHA-256. A SQLite
// daemon owns its disk: files under <state_root>/blobs/assets/<first two hex>/<digest>, written to a
// temp file, fsynced, renamed and the directory fsynced before the row naming them commits
// (ARCHITECTURE §4). PostgreSQL replicas share the database, not a disk: payloads are rows of
// `asset_payloads`, inserted in the transaction of the row naming them. The service asks `kind`
// for the one difference that matters: files are written before the transaction and removed after
// it, database payloads inside it.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { deletePayload, insertPayload, listPayloads, readPayload } from '../../store/repos/assets.ts';
import type { Executor } from '../../store/schema.ts';
import type { Store } from '../../store/store.ts';

export interface StoredPayload {
  sha256: string;
  byte_length: number;
}

export interface PayloadStore {
  readonly kind: 'file' | 'database';
  /** Before the row's transaction: a file is durable when this resolves. */
  stage(sha256: string, bytes: Uint8Array): Promise<void>;
  /** Inside the row's transaction: database payloads commit with the row. */
  attach(db: Executor, sha256: string, bytes: Uint8Array, now: number): Promise<void>;
  /** The stored bytes (unverified), or null when there are none. */
  read(sha256: string): Promise<Buffer | null>;
  /** Files: after the transaction that dropped the last row naming it; database: inside it. Bytes freed. */
  remove(sha256: string, db: Executor): Promise<number>;
  /** Every payload stored (temp files excluded). */
  list(): Promise<StoredPayload[]>;
  /** Start-up: the temp files a crash left behind (how many were removed). */
  removeTemps(): Promise<number>;
  /** Where a payload is, for plans and reports (relative to the state root, or the table). */
  locationOf(sha256: string): string;
}

const DIGEST = /^[0-9a-f]{64}$/;
const TEMP_PREFIX = '.tmp-';

async function fsyncDir(dir: string): Promise<void> {
  const fd = await open(dir, constants.O_RDONLY);
  try {
    await fd.sync();
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is as durable as they make it.
  } finally {
    await fd.close();
  }
}

const missing = (err: unknown): boolean => (err as NodeJS.ErrnoException)?.code === 'ENOENT';

export class FilePayloads implements PayloadStore {
  readonly kind = 'file' as const;
  private readonly root: string;
  private readonly dir: string;

  constructor(stateRoot: string) {
    this.root = stateRoot;
    this.dir = join(stateRoot, 'blobs', 'assets');
  }

  pathOf(sha256: string): string {
    return join(this.dir, sha256.slice(0, 2), sha256);
  }

  locationOf(sha256: string): string {
    return join('blobs', 'assets', sha256.slice(0, 2), sha256);
  }

  async stage(sha256: string, bytes: Uint8Array): Promise<void> {
    const sub = join(this.dir, sha256.slice(0, 2));
    const created = await mkdir(sub, { recursive: true });
    const temp = join(sub, `${TEMP_PREFIX}${sha256.slice(0, 16)}-${randomBytes(6).toString('hex')}`);
    const fd = await open(temp, 'wx', 0o600);
    try {
      await fd.writeFile(bytes);
      await fd.sync();
    } catch (err) {
      await fd.close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
      throw err;
    }
    await fd.close();
    await rename(temp, this.pathOf(sha256));
    await fsyncDir(sub);
    // A directory made now must itself be durable in its parents before a row names a file in it.
    if (created !== undefined) {
      await fsyncDir(this.dir);
      await fsyncDir(join(this.root, 'blobs'));
    }
  }

  async attach(): Promise<void> {}

  async read(sha256: string): Promise<Buffer | null> {
    try {
      return await readFile(this.pathOf(sha256));
    } catch (err) {
      if (missing(err)) return null;
      throw err;
    }
  }

  async remove(sha256: string): Promise<number> {
    const path = this.pathOf(sha256);
    let size = 0;
    try {
      size = (await stat(path)).size;
      await unlink(path);
    } catch (err) {
      if (missing(err)) return 0;
      throw err;
    }
    await fsyncDir(join(this.dir, sha256.slice(0, 2)));
    return size;
  }

  private async subdirs(): Promise<string[]> {
    try {
      return (await readdir(this.dir)).filter((n) => /^[0-9a-f]{2}$/.test(n));
    } catch (err) {
      if (missing(err)) return [];
      throw err;
    }
  }

  private async names(sub: string): Promise<string[]> {
    try {
      return await readdir(join(this.dir, sub));
    } catch (err) {
      if (missing(err)) return [];
      throw err;
    }
  }

  async list(): Promise<StoredPayload[]> {
    const out: StoredPayload[] = [];
    for (const sub of await this.subdirs())
      for (const name of await this.names(sub)) {
        if (!DIGEST.test(name)) continue;
        try {
          out.push({ sha256: name, byte_length: (await stat(join(this.dir, sub, name))).size });
        } catch (err) {
          if (!missing(err)) throw err;
        }
      }
    return out;
  }

  async removeTemps(): Promise<number> {
    let removed = 0;
    for (const sub of await this.subdirs())
      for (const name of await this.names(sub))
        if (name.startsWith(TEMP_PREFIX)) {
          await unlink(join(this.dir, sub, name)).catch(() => undefined);
          removed++;
        }
    return removed;
  }
}

export class DatabasePayloads implements PayloadStore {
  readonly kind = 'database' as const;
  private readonly store: Store;

  constructor(store: Store) {
    this.store = store;
  }

  locationOf(sha256: string): string {
    return `asset_payloads/${sha256}`;
  }

  async stage(): Promise<void> {}

  attach(db: Executor, sha256: string, bytes: Uint8Array, now: number): Promise<void> {
    return insertPayload(db, sha256, bytes, now);
  }

  async read(sha256: string): Promise<Buffer | null> {
    return (await readPayload(this.store.db, sha256)) ?? null;
  }

  remove(sha256: string, db: Executor): Promise<number> {
    return deletePayload(db, sha256);
  }

  list(): Promise<StoredPayload[]> {
    return listPayloads(this.store.db);
  }

  async removeTemps(): Promise<number> {
    return 0;
  }
}

/** The store's dialect chooses. */
export function payloadStoreFor(store: Store, stateRoot: string): PayloadStore {
  return store.dialect === 'postgres' ? new DatabasePayloads(store) : new FilePayloads(stateRoot);
}

/** In-process exclusion per digest: an import's staged file and a delete's unlink never interleave. */
export class DigestLocks {
  private readonly tails = new Map<string, Promise<void>>();

  async acquire(digests: string[]): Promise<() => void> {
    const releases: Array<() => void> = [];
    for (const d of [...new Set(digests)].sort()) {
      const prev = this.tails.get(d) ?? Promise.resolve();
      let release!: () => void;
      const mine = new Promise<void>((r) => {
        release = r;
      });
      const tail = prev.then(() => mine);
      this.tails.set(d, tail);
      await prev;
      releases.push(() => {
        release();
        if (this.tails.get(d) === tail) this.tails.delete(d);
      });
    }
    return () => {
      for (const r of releases.reverse()) r();
    };
  }
}
