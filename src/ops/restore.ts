// `kheish-daemon restore`: an archive from `backup` into a new state root (ops-runtime §16.2).
// Everything is checked before the state root appears: the manifest (format, seal under the
// master key), then every file's size and sha256 as it is copied into `<target>.restore-partial`,
// no file missing and none extra, the database's own check, and every secret slot opening with
// the key given. Only then is the partial directory renamed to the target.
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { MasterKey } from '../secrets/crypto.ts';
import { ioError, OPS_EXIT, OpsError, OpsInterrupted } from './errors.ts';
import { copyHashed, fsyncDir } from './files.ts';
import { FILES_DIR, MANIFEST_NAME, type Manifest, parseManifest, verifySeal } from './manifest.ts';
import { type ProgressSink, Tally } from './progress.ts';

export interface RestoreOptions {
  archive: string;
  /** The new state root: must not exist, or be an empty directory. */
  target: string;
  key: MasterKey | null;
  signal?: AbortSignal;
  progress?: ProgressSink;
}

export interface RestoreResult {
  state_root: string;
  files: number;
  bytes: number;
  secret_slots_verified: number;
  manifest: Manifest;
}

/** Reads and authenticates an archive's manifest (exported for `backup verify`-style checks). */
export async function readArchiveManifest(archive: string, key: MasterKey | null): Promise<Manifest> {
  const dir = resolve(archive);
  if (!existsSync(dir))
    throw new OpsError(`${dir} does not exist`, 'pass the directory `kheish-daemon backup` printed');
  if (dir.endsWith('.backup-partial') || !existsSync(join(dir, MANIFEST_NAME)))
    throw new OpsError(
      `${dir} is not a complete backup (it has no ${MANIFEST_NAME}): the backup was interrupted or the copy is incomplete`,
      'take a new backup, or restore from another copy',
    );
  const m = parseManifest(await readFile(join(dir, MANIFEST_NAME), 'utf8'), join(dir, MANIFEST_NAME));
  verifySeal(m, key);
  return m;
}

export async function restoreBackup(o: RestoreOptions): Promise<RestoreResult> {
  const archive = resolve(o.archive);
  const target = resolve(o.target);
  const m = await readArchiveManifest(archive, o.key);
  if (m.dialect !== 'sqlite' && !m.files.length)
    throw new OpsError(
      'the archive holds no file',
      'restore the database with pg_restore (docs/operations.md)',
    );
  if (existsSync(target) && readdirSync(target).length > 0)
    throw new OpsError(
      `${target} is not empty`,
      'restore into a new directory (never over a live state root), validate it, then promote it',
    );
  await checkNoExtraFiles(join(archive, FILES_DIR), m);
  const partial = `${target}.restore-partial`;
  try {
    await rm(partial, { recursive: true, force: true });
    await mkdir(partial, { mode: 0o700 });
  } catch (err) {
    throw ioError(err, 'create', partial);
  }
  try {
    const tally = new Tally('restore', m.files.length, m.totals.bytes, o.progress);
    for (const f of m.files) {
      const from = join(archive, FILES_DIR, f.path);
      const to = join(partial, f.path);
      const size = (await stat(from).catch(() => null))?.size;
      if (size === undefined)
        throw new OpsError(
          `the archive lacks ${f.path}, which its manifest lists`,
          'restore from another copy of the backup',
        );
      if (size !== f.bytes)
        throw new OpsError(
          `${f.path} in the archive is ${size} bytes, the manifest says ${f.bytes}: the archive is ${size < f.bytes ? 'truncated' : 'altered'}`,
          'restore from another copy of the backup',
        );
      await mkdir(dirname(to), { recursive: true, mode: 0o700 });
      const copied = await copyHashed(from, to, {
        signal: o.signal,
        onBytes: (n) => tally.bytes(n),
        mode: f.path === 'kheish.sqlite' ? 0o600 : (await stat(from)).mode & 0o777,
        maxBytes: f.bytes,
      });
      if (copied.sha256 !== f.sha256 || copied.bytes !== f.bytes)
        throw new OpsError(
          `${f.path} does not match its sha256 in the manifest: the archive was altered or damaged`,
          'restore from another copy of the backup',
        );
      tally.file();
    }
    let verified = 0;
    if (m.dialect === 'sqlite') verified = await checkDatabase(partial, o.key);
    o.signal?.throwIfAborted();
    for (const d of await dirsOf(partial)) await fsyncDir(d);
    await rename(partial, target);
    await fsyncDir(dirname(target));
    return {
      state_root: target,
      files: m.files.length,
      bytes: m.totals.bytes,
      secret_slots_verified: verified,
      manifest: m,
    };
  } catch (err) {
    await rm(partial, { recursive: true, force: true }).catch(() => undefined);
    if (o.signal?.aborted) throw new OpsInterrupted('restore');
    if (err instanceof OpsError) throw err;
    if ((err as NodeJS.ErrnoException).code) throw ioError(err, 'write', target);
    throw err;
  }
}

/** A file the manifest does not list was added after the backup: refused, never restored. */
async function checkNoExtraFiles(base: string, m: Manifest): Promise<void> {
  const listed = new Set(m.files.map((f) => f.path));
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const full = join(dir, e.name);
      if (e.isDirectory()) await walk(full);
      else {
        const rel = relative(base, full).split(sep).join('/');
        if (!listed.has(rel))
          throw new OpsError(
            `the archive holds ${rel}, which its manifest does not list: it was added after the backup`,
            'restore from another copy of the backup',
          );
      }
    }
  };
  await walk(base);
}

/** SQLite's own check, then the secret store opens with the key and every slot decrypts. */
async function checkDatabase(root: string, key: MasterKey | null): Promise<number> {
  const db = new BetterSqlite3(join(root, 'kheish.sqlite'), { fileMustExist: true });
  try {
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok')
      throw new OpsError(
        `the restored database fails SQLite's check (${String(check)})`,
        'restore from another copy',
      );
  } finally {
    db.close();
  }
  const [{ Store }, { SecretStore }, errs] = await Promise.all([
    import('../store/store.ts'),
    import('../secrets/secret-store.ts'),
    import('../secrets/errors.ts'),
  ]);
  const store = await Store.open({ stateRoot: root });
  try {
    const secrets = await SecretStore.open(store, key).catch((err) => {
      throw errs.isSecretStoreStartupError(err)
        ? new OpsError(err.message, 'set KHEISH_AUTH_STORE_MASTER_KEY_FILE to the key the daemon used')
        : err;
    });
    const slots = await secrets.list();
    if (slots.length > 0 && secrets.state !== 'ready')
      throw new OpsError(
        `the archive holds ${slots.length} secret slot(s) and no master key is set`,
        'set KHEISH_AUTH_STORE_MASTER_KEY_FILE to the key the daemon used',
      );
    for (const s of slots) {
      await secrets.getSecretState(s.slot_id).catch(() => {
        throw new OpsError(
          `secret slot ${s.slot_id} does not open with the master key given`,
          'set KHEISH_AUTH_STORE_MASTER_KEY_FILE to the key the daemon used when the backup was taken',
          OPS_EXIT.invalid,
        );
      });
    }
    return slots.length;
  } finally {
    await store.close();
  }
}

async function dirsOf(root: string): Promise<string[]> {
  const out = [root];
  for (const e of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (e.isDirectory()) out.push(join(e.parentPath, e.name));
  }
  return out.reverse();
}
