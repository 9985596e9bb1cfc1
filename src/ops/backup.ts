// `kheish-daemon backup`: a consistent archive of a whole state root (ops-runtime §16.1).
// The database is snapshotted with SQLite's `VACUUM INTO` (one read transaction: consistent even
// while a daemon writes, never a copy of a live WAL); every other file of the state root that is
// state (blobs, the audit signing key, the auth audit, ...) is copied after it, so every row of
// the snapshot finds the blob it names (blobs are written before their rows). The archive is a
// directory (decision #540) written as `<out>.backup-partial`, each file fsynced, the manifest
// last, then renamed to `<out>`: an archive under its final name is always complete.
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { MasterKey } from '../secrets/crypto.ts';
import { DAEMON_VERSION } from '../version.ts';
import { ioError, OPS_EXIT, OpsError, OpsInterrupted } from './errors.ts';
import { copyHashed, fsyncDir, hashFile, listStateFiles, writeDurable } from './files.ts';
import {
  FILES_DIR,
  MANIFEST_FORMAT,
  MANIFEST_NAME,
  type Manifest,
  type ManifestFile,
  manifestDigest,
  sealManifest,
} from './manifest.ts';
import { type ProgressSink, Tally } from './progress.ts';
import { lockIfFree } from './state-lock.ts';

export interface BackupOptions {
  stateRoot: string;
  /** The archive directory to create; it must not exist. */
  out: string;
  /** PostgreSQL: the database is not in the archive (pg_dump it); the state root's files are. */
  databaseUrl?: string | null;
  key: MasterKey | null;
  signal?: AbortSignal;
  progress?: ProgressSink;
}

export interface BackupResult {
  archive: string;
  /** sha256 of manifest.json: record it outside the archive (it covers every file). */
  manifest_sha256: string;
  manifest: Manifest;
  warnings: string[];
}

export async function createBackup(o: BackupOptions): Promise<BackupResult> {
  const root = resolve(o.stateRoot);
  const out = resolve(o.out);
  const dialect = o.databaseUrl ? 'postgres' : 'sqlite';
  if (!existsSync(root))
    throw new OpsError(
      `state root ${root} does not exist`,
      "pass the daemon's --state-root (or KHEISH_STATE_ROOT)",
    );
  if (dialect === 'sqlite' && !existsSync(join(root, 'kheish.sqlite')))
    throw new OpsError(
      `no database in ${root} (kheish.sqlite is missing)`,
      "pass the daemon's --state-root, or --database-url for a PostgreSQL daemon",
    );
  if (existsSync(out))
    throw new OpsError(`${out} already exists`, 'choose a new archive path; a backup never overwrites one');
  if (isInside(root, out))
    throw new OpsError(`${out} is inside the state root`, 'write the archive outside the state root');
  const partial = `${out}.backup-partial`;
  const warnings: string[] = [];
  // Leftovers of an interrupted run to this same path never held a manifest: safe to discard.
  try {
    await rm(partial, { recursive: true, force: true });
    // Not recursive: a missing parent is the operator's typo, and the file system's own error
    // (EROFS, EACCES, ENOSPC) is reported as it is.
    await mkdir(partial, { mode: 0o700 });
    await mkdir(join(partial, FILES_DIR), { mode: 0o700 });
  } catch (err) {
    await rm(partial, { recursive: true, force: true }).catch(() => undefined);
    throw ioError(err, 'create the archive in', dirname(out));
  }
  const lock = lockIfFree(root);
  try {
    const files: ManifestFile[] = [];
    let secrets = { master_key_id: null as string | null, slots: 0 };
    if (dialect === 'sqlite') {
      o.progress?.({ phase: 'database', files_done: 0, files_total: 1, bytes_done: 0, bytes_total: 0 });
      secrets = snapshotDatabase(root, join(partial, FILES_DIR, 'kheish.sqlite'));
      files.push({
        path: 'kheish.sqlite',
        ...(await hashFile(join(partial, FILES_DIR, 'kheish.sqlite'), o.signal)),
      });
    } else {
      secrets = await postgresSecrets(root, o.databaseUrl!);
      warnings.push(
        'PostgreSQL: the database is not in this archive; dump it with pg_dump (docs/operations.md)',
      );
    }
    if (secrets.master_key_id && o.key && o.key.keyId !== secrets.master_key_id)
      throw new OpsError(
        `the master key set here (${o.key.keyId}) is not the one the state root's secrets are sealed with (${secrets.master_key_id})`,
        'set KHEISH_AUTH_STORE_MASTER_KEY[_FILE] as for the daemon of this state root',
      );
    if (secrets.master_key_id && !o.key)
      warnings.push(
        'no master key is set: the manifest is not sealed, and `restore` refuses an unsealed archive that holds secret slots; set KHEISH_AUTH_STORE_MASTER_KEY_FILE as for the daemon and back up again',
      );
    const list = await listStateFiles(root, o.signal);
    const tally = new Tally(
      'files',
      list.length,
      list.reduce((n, f) => n + f.bytes, 0),
      o.progress,
    );
    for (const f of list) {
      const to = join(partial, FILES_DIR, f.path);
      await mkdir(dirname(to), { recursive: true, mode: 0o700 });
      try {
        const copied = await copyHashed(join(root, f.path), to, {
          signal: o.signal,
          onBytes: (n) => tally.bytes(n),
          mode: (await stat(join(root, f.path))).mode & 0o777,
        });
        files.push({ path: f.path, ...copied });
      } catch (err) {
        // Deleted since the listing (an expired debug file, a collected blob): no longer state.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !existsSync(join(root, f.path))) continue;
        throw err;
      }
      tally.file();
    }
    if (dialect === 'sqlite') {
      const missing = missingAssetBytes(join(partial, FILES_DIR));
      if (missing > 0)
        warnings.push(
          `${missing} asset(s) of the snapshot have no bytes in the archive (deleted while the backup ran?); \`assets get\` will report them after a restore`,
        );
    }
    const body: Omit<Manifest, 'seal'> = {
      format: MANIFEST_FORMAT,
      created_at_ms: Date.now(),
      daemon_version: DAEMON_VERSION,
      dialect,
      source_state_root: root,
      online: lock === null,
      master_key_id: secrets.master_key_id,
      secret_slots: secrets.slots,
      files,
      totals: { files: files.length, bytes: files.reduce((n, f) => n + f.bytes, 0) },
    };
    const manifest = sealManifest(body, secrets.master_key_id ? o.key : null);
    o.signal?.throwIfAborted();
    await fsyncTree(join(partial, FILES_DIR), files);
    const text = `${JSON.stringify(manifest, null, 2)}\n`;
    await writeDurable(join(partial, MANIFEST_NAME), text);
    await fsyncDir(partial);
    await rename(partial, out);
    await fsyncDir(dirname(out));
    const { createHash } = await import('node:crypto');
    return {
      archive: out,
      manifest_sha256: createHash('sha256').update(text).digest('hex'),
      manifest,
      warnings,
    };
  } catch (err) {
    await rm(partial, { recursive: true, force: true }).catch(() => undefined);
    if (o.signal?.aborted) throw new OpsInterrupted('backup');
    if (err instanceof OpsError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code && !code.startsWith('SQLITE')) throw ioError(err, 'write the archive', out);
    if (/SQLITE_FULL|disk is full/i.test(String((err as Error).message)))
      throw ioError(Object.assign(err as Error, { code: 'ENOSPC' }), 'write the archive', out);
    throw err;
  } finally {
    lock?.release();
  }
}

/** VACUUM INTO: a compact, consistent copy of the live database; returns the secret store's key id. */
function snapshotDatabase(root: string, to: string): { master_key_id: string | null; slots: number } {
  let db: BetterSqlite3.Database;
  try {
    db = new BetterSqlite3(join(root, 'kheish.sqlite'), { fileMustExist: true, timeout: 5000 });
  } catch (err) {
    throw new OpsError(`cannot open ${join(root, 'kheish.sqlite')}: ${(err as Error).message}`);
  }
  try {
    db.prepare('VACUUM INTO ?').run(to);
  } catch (err) {
    const message = (err as Error).message;
    if (/full|disk/i.test(message) || (err as { code?: string }).code === 'SQLITE_FULL')
      throw Object.assign(new Error(message), { code: 'ENOSPC' });
    if ((err as { code?: string }).code === 'SQLITE_CANTOPEN')
      throw Object.assign(new Error(message), { code: 'EACCES' });
    throw err;
  } finally {
    db.close();
  }
  const snap = new BetterSqlite3(to, { fileMustExist: true });
  try {
    const check = snap.pragma('quick_check', { simple: true });
    if (check !== 'ok')
      throw new OpsError(
        `the database snapshot fails SQLite's check (${String(check)})`,
        'the live database is damaged: run `kheish-daemon doctor` and restore from an earlier backup',
        OPS_EXIT.failure,
      );
    return secretsOf(snap);
  } finally {
    snap.close();
  }
}

/** Assets the snapshot names whose bytes (blobs/assets/<2>/<sha256>) the archive lacks. */
function missingAssetBytes(base: string): number {
  const db = new BetterSqlite3(join(base, 'kheish.sqlite'), { readonly: true, fileMustExist: true });
  try {
    const has = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'assets'").get();
    if (!has) return 0;
    const rows = db.prepare('SELECT DISTINCT sha256 FROM assets').all() as Array<{ sha256: string }>;
    return rows.filter((r) => !existsSync(join(base, 'blobs', 'assets', r.sha256.slice(0, 2), r.sha256)))
      .length;
  } finally {
    db.close();
  }
}

export function secretsOf(db: BetterSqlite3.Database): { master_key_id: string | null; slots: number } {
  const hasTable = (name: string) =>
    db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
  if (!hasTable('auth_slots')) return { master_key_id: null, slots: 0 };
  const slots = Number((db.prepare('SELECT count(*) AS n FROM auth_slots').get() as { n: number }).n);
  const check = hasTable('auth_key_check')
    ? (db.prepare('SELECT key_id FROM auth_key_check LIMIT 1').get() as { key_id: string } | undefined)
    : undefined;
  const first =
    slots > 0 ? (db.prepare('SELECT key_id FROM auth_slots LIMIT 1').get() as { key_id: string }) : undefined;
  return { master_key_id: slots > 0 ? (check?.key_id ?? first?.key_id ?? null) : null, slots };
}

async function postgresSecrets(root: string, url: string) {
  const { Store } = await import('../store/store.ts');
  const store = await Store.open({ stateRoot: root, databaseUrl: url });
  try {
    const slots = await store.db.selectFrom('auth_slots').select('key_id').execute();
    const check = await store.db.selectFrom('auth_key_check').select('key_id').executeTakeFirst();
    return {
      master_key_id: slots.length > 0 ? (check?.key_id ?? slots[0]!.key_id) : null,
      slots: slots.length,
    };
  } finally {
    await store.close();
  }
}

/** fsyncs every directory that received a file (files were fsynced as they were written). */
async function fsyncTree(base: string, files: ManifestFile[]): Promise<void> {
  const dirs = new Set<string>([base]);
  for (const f of files) {
    let d = dirname(join(base, f.path));
    while (d.length >= base.length) {
      dirs.add(d);
      d = dirname(d);
    }
  }
  for (const d of dirs) await fsyncDir(d);
}

function isInside(root: string, p: string): boolean {
  return p === root || p.startsWith(`${root}/`) || basename(p) === '';
}

export { manifestDigest };
