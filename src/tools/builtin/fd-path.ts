// Node has no openat(2). On Linux, `/proc/self/fd/<dirfd>/<name>` resolves `name` inside the
// directory that the descriptor holds, whatever has been renamed or swapped since it was opened,
// which gives the same guarantee. Elsewhere we fall back to absolute paths (a wider race window).
import { constants, existsSync } from 'node:fs';

export const PROC_FD = process.platform === 'linux' && existsSync('/proc/self/fd');

export const O_DIR_NOFOLLOW = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
// O_NONBLOCK: opening a FIFO for reading would otherwise block until a writer appears.
export const O_READ_NOFOLLOW =
  constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;

/** Path of `name` inside a directory held open as `fd` (whose canonical path is `dirPath`). */
export function childOf(fd: number, dirPath: string, name: string): string {
  return PROC_FD ? `/proc/self/fd/${fd}/${name}` : `${dirPath}/${name}`;
}

/** The path the kernel says an open descriptor refers to, when it can tell. */
export function procFdPath(fd: number): string | null {
  return PROC_FD ? `/proc/self/fd/${fd}` : null;
}
