// File access for the tools, one directory descriptor at a time: every component is opened with
// O_NOFOLLOW relative to its parent, so a symbolic link placed after workspace-path.ts checked the
// path makes the open fail instead of leading outside. Writes are temp file + fsync + rename.
import { randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { type FileHandle, lstat, mkdir, open, readlink, rename, unlink } from 'node:fs/promises';
import { fail, fsFailure, throwIfAborted } from './failure.ts';
import { childOf, O_DIR_NOFOLLOW, O_READ_NOFOLLOW, procFdPath } from './fd-path.ts';
import { inside, type WorkspaceRoot } from './workspace-path.ts';

export interface DirRef {
  handle: FileHandle;
  /** Canonical absolute path, for the fallback without /proc and for messages. */
  path: string;
}

function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException)?.code;
}

function kindOf(info: Stats): string {
  if (info.isFIFO()) return 'a FIFO';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device file';
  if (info.isSymbolicLink()) return 'a symbolic link';
  if (info.isDirectory()) return 'a directory';
  return 'not a regular file';
}

/** Opens the directory `components` below the root, optionally creating what is missing. */
export async function openDir(
  root: WorkspaceRoot,
  components: string[],
  opts: { create: boolean; display: string },
): Promise<DirRef> {
  let handle = await open(root.real, constants.O_RDONLY | constants.O_DIRECTORY).catch((err) => {
    throw fsFailure(err, '.', 'open the workspace root for');
  });
  let path = root.real;
  try {
    for (const name of components) {
      const child = childOf(handle.fd, path, name);
      let next: FileHandle;
      try {
        next = await open(child, O_DIR_NOFOLLOW);
      } catch (err) {
        const code = errCode(err);
        if (code === 'ENOENT' && opts.create) {
          await mkdir(child).catch((e) => {
            if (errCode(e) !== 'EEXIST') throw e;
          });
          next = await open(child, O_DIR_NOFOLLOW);
        } else if (code === 'ELOOP' || code === 'ENOTDIR') {
          const info = await lstat(child).catch(() => null);
          if (info?.isSymbolicLink()) {
            fail(
              `\`${opts.display}\`: \`${name}\` is a symbolic link that appeared while opening the path; refusing`,
            );
          }
          fail(`\`${opts.display}\`: \`${name}\` is not a directory`);
        } else {
          throw err;
        }
      }
      await handle.close();
      handle = next;
      path = `${path}/${name}`;
    }
    // Belt and braces: ask the kernel where the descriptor really is.
    const proc = procFdPath(handle.fd);
    if (proc) {
      const where = await readlink(proc);
      if (!inside(root.real, where))
        fail(`\`${opts.display}\` moved outside the workspace while being opened`);
    }
    return { handle, path };
  } catch (err) {
    await handle.close().catch(() => {});
    throw fsFailure(err, opts.display, 'open the directory of');
  }
}

export async function closeDir(dir: DirRef | null | undefined): Promise<void> {
  await dir?.handle.close().catch(() => {});
}

/** lstat of `leaf` inside `dir`; null when it does not exist. */
export async function lstatIn(dir: DirRef, leaf: string): Promise<Stats | null> {
  try {
    return await lstat(childOf(dir.handle.fd, dir.path, leaf));
  } catch (err) {
    if (errCode(err) === 'ENOENT') return null;
    throw err;
  }
}

/** What a write would replace: nothing, or a regular file (anything else is refused). */
export async function writeTargetInfo(dir: DirRef, leaf: string, display: string): Promise<Stats | null> {
  const info = await lstatIn(dir, leaf).catch((err) => {
    throw fsFailure(err, display, 'inspect');
  });
  if (info && !info.isFile()) {
    if (info.isDirectory()) fail(`\`${display}\` is a directory; give a file path`);
    fail(`\`${display}\` is ${kindOf(info)}; refusing to replace it`);
  }
  return info;
}

/** Opens a regular file for reading without following links; FIFOs and devices are refused unopened. */
export async function openRegular(dir: DirRef, leaf: string, display: string): Promise<FileHandle> {
  const child = childOf(dir.handle.fd, dir.path, leaf);
  const before = await lstat(child).catch((err) => {
    throw fsFailure(err, display, 'read');
  });
  if (before.isDirectory()) fail(`\`${display}\` is a directory; use list_files to see what it contains`);
  if (!before.isFile()) fail(`\`${display}\` is ${kindOf(before)}; only regular files can be read`);
  const fh = await open(child, O_READ_NOFOLLOW).catch((err) => {
    throw fsFailure(err, display, 'open');
  });
  const after = await fh.stat();
  if (!after.isFile() || after.ino !== before.ino || after.dev !== before.dev) {
    await fh.close();
    fail(`\`${display}\` changed while being opened; refusing`);
  }
  return fh;
}

/** Reads a whole file of at most `maxBytes` (the limit names what the caller should do instead). */
export async function readAll(
  fh: FileHandle,
  maxBytes: number,
  display: string,
  hint: string,
): Promise<Buffer> {
  const size = (await fh.stat()).size;
  if (size > maxBytes) fail(`\`${display}\` is ${size} bytes, over the ${maxBytes}-byte limit; ${hint}`);
  // One spare byte (or some slack) notices a file that grew since fstat.
  const buf = Buffer.alloc(Math.min(maxBytes + 1, size + 65536));
  let total = 0;
  while (total < buf.length) {
    const { bytesRead } = await fh.read(buf, total, buf.length - total, total);
    if (bytesRead === 0) break;
    total += bytesRead;
  }
  if (total > maxBytes) fail(`\`${display}\` grew past the ${maxBytes}-byte limit while being read; ${hint}`);
  return buf.subarray(0, total);
}

export interface Staged {
  dir: DirRef;
  temp: string;
  leaf: string;
  display: string;
}

/** Writes `data` to a fresh temp file beside `leaf` and fsyncs it; nothing is visible yet. */
export async function stageWrite(
  dir: DirRef,
  leaf: string,
  data: Uint8Array,
  display: string,
  mode: number | undefined,
  signal: AbortSignal,
): Promise<Staged> {
  throwIfAborted(signal);
  const temp = `.kheish-${randomBytes(8).toString('hex')}.tmp`;
  const path = childOf(dir.handle.fd, dir.path, temp);
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  const fh = await open(path, flags, 0o666).catch((err) => {
    throw fsFailure(err, display, 'create a temporary file next to');
  });
  try {
    await fh.writeFile(data);
    if (mode !== undefined) await fh.chmod(mode);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => {});
    await unlink(path).catch(() => {});
    throw fsFailure(err, display, 'write');
  }
  await fh.close();
  return { dir, temp, leaf, display };
}

/** Atomically replaces the target with the staged file and makes the rename durable. */
export async function commitWrite(staged: Staged): Promise<void> {
  const { dir } = staged;
  try {
    await rename(
      childOf(dir.handle.fd, dir.path, staged.temp),
      childOf(dir.handle.fd, dir.path, staged.leaf),
    );
  } catch (err) {
    await abortWrite(staged);
    throw fsFailure(err, staged.display, 'replace');
  }
  // Some filesystems refuse fsync on a directory; the rename already happened, so do not fail.
  await dir.handle.sync().catch(() => {});
}

export async function abortWrite(staged: Staged): Promise<void> {
  await unlink(childOf(staged.dir.handle.fd, staged.dir.path, staged.temp)).catch(() => {});
}

/** Keeps the permission bits of the file being replaced; a new file gets the umask default. */
export function keepMode(info: Stats | null): number | undefined {
  return info ? info.mode & 0o7777 : undefined;
}
