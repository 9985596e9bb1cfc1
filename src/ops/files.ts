// File plumbing shared by backup and restore: which files of a state root are state, copying a
// file while hashing it (fsynced, cancellable, with progress), and directory fsync.
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { type FileHandle, lstat, open, readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

/**
 * Not state: the live database files (the snapshot replaces them), the lock and pid of whoever
 * holds the root, fault-injection markers, and leftovers of interrupted operations.
 */
const SKIPPED_NAMES = new Set([
  'kheish.sqlite',
  'kheish.sqlite-wal',
  'kheish.sqlite-shm',
  'kheish.sqlite-journal',
  'daemon.lock',
  'daemon.lock-journal',
  'daemon.pid',
  'fault-group-commit.json',
]);
const SKIPPED_SUFFIXES = ['.backup-partial', '.restore-partial', '.vacuum-tmp'];

export interface StateFile {
  /** Relative to the state root, `/`-separated. */
  path: string;
  bytes: number;
}

/** Regular files of the state root that are state, sorted; symlinks and sockets are left out. */
export async function listStateFiles(root: string, signal?: AbortSignal): Promise<StateFile[]> {
  const out: StateFile[] = [];
  const walk = async (dir: string): Promise<void> => {
    signal?.throwIfAborted();
    const entries = await readdir(dir, { withFileTypes: true });
    for (const e of entries) {
      const full = join(dir, e.name);
      const rel = relative(root, full).split(sep).join('/');
      if (SKIPPED_SUFFIXES.some((s) => e.name.includes(s))) continue;
      if (dir === root && SKIPPED_NAMES.has(e.name)) continue;
      if (e.isDirectory()) await walk(full);
      else if (e.isFile()) {
        // A file deleted between readdir and stat (a blob GC'd meanwhile) is simply not state now.
        const st = await lstat(full).catch(() => null);
        if (st?.isFile()) out.push({ path: rel, bytes: st.size });
      }
    }
  };
  await walk(root);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export type CopyProgress = (bytes: number) => void;

const CHUNK = 1024 * 1024;

/** Test-only faults, read per call so a test can set them on the child process it starts. */
export function opsFaults(env: NodeJS.ProcessEnv = process.env) {
  const n = (name: string) => {
    const v = env[name];
    return v && /^\d+$/.test(v) ? Number(v) : null;
  };
  return {
    enospcAfter: n('KHEISH_FAULT_OPS_ENOSPC_AFTER_BYTES'),
    delayMs: n('KHEISH_FAULT_OPS_DELAY_MS'),
  };
}

let written = 0;

/**
 * Copies `from` to `to` (created exclusively, mode `mode`), hashing the bytes read; fsyncs the
 * copy. Returns the byte count and sha256. `expect` (restore) stops at the first byte past the
 * recorded size so a grown file cannot fill the disk.
 */
export async function copyHashed(
  from: string,
  to: string,
  opts: { signal?: AbortSignal; onBytes?: CopyProgress; mode?: number; maxBytes?: number } = {},
): Promise<{ bytes: number; sha256: string }> {
  const f = opsFaults();
  const hash = createHash('sha256');
  let src: FileHandle | null = null;
  let dst: FileHandle | null = null;
  let bytes = 0;
  try {
    src = await open(from, constants.O_RDONLY);
    dst = await open(to, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, opts.mode ?? 0o600);
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      opts.signal?.throwIfAborted();
      const { bytesRead } = await src.read(buf, 0, CHUNK, null);
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      hash.update(chunk);
      if (f.enospcAfter !== null && written + bytesRead > f.enospcAfter)
        throw Object.assign(new Error('ENOSPC: no space left on device (injected)'), { code: 'ENOSPC' });
      await dst.write(chunk);
      written += bytesRead;
      bytes += bytesRead;
      opts.onBytes?.(bytesRead);
      if (opts.maxBytes !== undefined && bytes > opts.maxBytes) break;
    }
    await dst.sync();
    if (f.delayMs) await new Promise((r) => setTimeout(r, f.delayMs!));
  } finally {
    await src?.close().catch(() => undefined);
    await dst?.close().catch(() => undefined);
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** sha256 and size of a file, read in chunks. */
export async function hashFile(
  path: string,
  signal?: AbortSignal,
): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  const fd = await open(path, constants.O_RDONLY);
  let bytes = 0;
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      signal?.throwIfAborted();
      const { bytesRead } = await fd.read(buf, 0, CHUNK, null);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      bytes += bytesRead;
    }
  } finally {
    await fd.close();
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** Makes a directory's entries (created or renamed files) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fd = await open(dir, constants.O_RDONLY);
  try {
    await fd.sync();
  } finally {
    await fd.close();
  }
}

/** Writes a small file durably (exclusive create, fsync). */
export async function writeDurable(path: string, text: string, mode = 0o600): Promise<void> {
  const fd = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    const f = opsFaults();
    if (f.enospcAfter !== null && written + text.length > f.enospcAfter)
      throw Object.assign(new Error('ENOSPC: no space left on device (injected)'), { code: 'ENOSPC' });
    await fd.writeFile(text);
    await fd.sync();
  } finally {
    await fd.close();
  }
}
