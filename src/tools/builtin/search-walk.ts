// The tree walk behind list_files, glob_search and grep_search. It runs inside a worker thread
// (search-worker.ts) so that a huge tree or a catastrophic regular expression can be stopped by
// terminating the thread; hence plain synchronous fs calls here. Directories are opened one by
// one with O_NOFOLLOW relative to their parent's descriptor and symbolic links are never followed,
// so the walk cannot leave the workspace even if the tree changes while it runs.
import { closeSync, constants, fstatSync, openSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { matchesGlob } from 'node:path';
import { fail, fsFailure } from './failure.ts';
import { childOf, O_DIR_NOFOLLOW, O_READ_NOFOLLOW, PROC_FD, procFdPath } from './fd-path.ts';

export interface SearchJob {
  kind: 'list' | 'glob' | 'grep';
  rootReal: string;
  /** Canonical components of the base below the root. */
  base: string[];
  baseDisplay: string;
  /** grep_search may search a single file. */
  baseIsFile: boolean;
  /** Directory levels to descend below base (1 = only base's own entries); null = no limit. */
  maxDepth: number | null;
  includeIgnored: boolean;
  limit: number;
  maxOutputBytes: number;
  /** Epoch ms after which the walk stops and returns what it has. */
  deadline: number;
  /** glob_search's pattern, or grep_search's file filter. */
  glob?: string;
  regex?: { source: string; flags: string };
  maxFileBytes: number;
  maxLineChars: number;
}

export interface GrepMatch {
  path: string;
  line: number;
  text: string;
}

export interface SearchOutcome {
  paths: string[];
  matches: GrepMatch[];
  /** Why the walk stopped early, if it did. */
  stopped: null | 'limit' | 'bytes' | 'time';
  files_searched: number;
  skipped_binary: number;
  skipped_large: number;
}

export const IGNORED_DIRS = new Set(['.git', 'node_modules']);

interface Entry {
  sub: string[];
  dirFd: number;
  dirPath: string;
  name: string;
}

function listDir(fd: number, path: string) {
  const entries = readdirSync(procFdPath(fd) ?? path, { withFileTypes: true });
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Depth-first, sorted; a directory's files come before its subdirectories. */
function* walk(fd: number, path: string, sub: string[], depth: number, job: SearchJob): Generator<Entry> {
  let entries: ReturnType<typeof listDir>;
  try {
    entries = listDir(fd, path);
  } catch {
    return; // unreadable or vanished directory: skip it, as rg does
  }
  for (const e of entries)
    if (e.isFile()) yield { sub: [...sub, e.name], dirFd: fd, dirPath: path, name: e.name };
  if (job.maxDepth !== null && depth >= job.maxDepth) return;
  for (const e of entries) {
    if (!e.isDirectory() || (!job.includeIgnored && IGNORED_DIRS.has(e.name))) continue;
    let child: number;
    try {
      child = openSync(childOf(fd, path, e.name), O_DIR_NOFOLLOW);
    } catch {
      continue; // replaced by a link or removed since listing: never follow
    }
    try {
      yield* walk(child, `${path}/${e.name}`, [...sub, e.name], depth + 1, job);
    } finally {
      closeSync(child);
    }
  }
}

function openBase(job: SearchJob, wantDir: boolean): { fd: number; path: string; leaf?: string } {
  let fd = openSync(job.rootReal, constants.O_RDONLY | constants.O_DIRECTORY);
  let path = job.rootReal;
  const dirs = wantDir ? job.base : job.base.slice(0, -1);
  try {
    for (const name of dirs) {
      const next = openSync(childOf(fd, path, name), O_DIR_NOFOLLOW);
      closeSync(fd);
      fd = next;
      path = `${path}/${name}`;
    }
    if (PROC_FD) {
      const where = readlinkSync(procFdPath(fd)!);
      if (where !== job.rootReal && !where.startsWith(`${job.rootReal}/`))
        fail(`\`${job.baseDisplay}\` moved outside the workspace`);
    }
  } catch (err) {
    closeSync(fd);
    throw fsFailure(err, job.baseDisplay, 'open');
  }
  return { fd, path, leaf: wantDir ? undefined : job.base[job.base.length - 1] };
}

/** ripgrep-style: a pattern without `/` matches the file name at any depth. */
export function globMatches(pattern: string, sub: string[]): boolean {
  const target = pattern.includes('/') ? sub.join('/') : sub[sub.length - 1]!;
  return matchesGlob(target, pattern);
}

function outcome(): SearchOutcome {
  return { paths: [], matches: [], stopped: null, files_searched: 0, skipped_binary: 0, skipped_large: 0 };
}

function relPath(job: SearchJob, sub: string[]): string {
  return [...job.base, ...sub].join('/');
}

function shorten(line: string, re: RegExp, max: number): string {
  if (line.length <= max) return line;
  const at = Math.max(0, (re.exec(line)?.index ?? 0) - Math.floor(max / 4));
  return `${at > 0 ? '…' : ''}${line.slice(at, at + max)}${at + max < line.length ? '…' : ''}`;
}

function grepFile(
  job: SearchJob,
  re: RegExp,
  fd: number,
  path: string,
  out: SearchOutcome,
  budget: { bytes: number },
) {
  const st = fstatSync(fd);
  if (!st.isFile()) return;
  if (st.size > job.maxFileBytes) {
    out.skipped_large++;
    return;
  }
  const buf = readFileSync(fd);
  if (buf.subarray(0, 8192).includes(0)) {
    out.skipped_binary++;
    return;
  }
  out.files_searched++;
  const text = buf.toString('utf8');
  let lineNo = 1;
  for (let start = 0; start < text.length; lineNo++) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const line = text.charCodeAt(end - 1) === 13 ? text.slice(start, end - 1) : text.slice(start, end);
    if (re.test(line)) {
      if (out.matches.length >= job.limit) {
        out.stopped = 'limit';
        return;
      }
      const m = { path, line: lineNo, text: shorten(line, re, job.maxLineChars) };
      budget.bytes += Buffer.byteLength(JSON.stringify(m)) + 1;
      if (budget.bytes > job.maxOutputBytes) {
        out.stopped = 'bytes';
        return;
      }
      out.matches.push(m);
    }
    if ((lineNo & 0x3fff) === 0 && Date.now() > job.deadline) {
      out.stopped = 'time';
      return;
    }
    if (end >= text.length) break;
    start = end + 1;
  }
}

export function runSearch(job: SearchJob): SearchOutcome {
  const out = outcome();
  const budget = { bytes: 0 };
  const re = job.regex ? new RegExp(job.regex.source, job.regex.flags) : null;
  if (job.baseIsFile) {
    const parent = openBase(job, false);
    try {
      const fd = openSync(childOf(parent.fd, parent.path, parent.leaf!), O_READ_NOFOLLOW);
      try {
        grepFile(job, re!, fd, job.baseDisplay, out, budget);
      } finally {
        closeSync(fd);
      }
    } catch (err) {
      throw fsFailure(err, job.baseDisplay, 'search');
    } finally {
      closeSync(parent.fd);
    }
    return out;
  }
  const base = openBase(job, true);
  try {
    let seen = 0;
    for (const entry of walk(base.fd, base.path, [], 1, job)) {
      if ((++seen & 0xff) === 0 && Date.now() > job.deadline) {
        out.stopped = 'time';
        break;
      }
      if (job.glob !== undefined && !globMatches(job.glob, entry.sub)) continue;
      const path = relPath(job, entry.sub);
      if (job.kind === 'grep') {
        let fd: number;
        try {
          fd = openSync(childOf(entry.dirFd, entry.dirPath, entry.name), O_READ_NOFOLLOW);
        } catch {
          continue;
        }
        try {
          grepFile(job, re!, fd, path, out, budget);
        } finally {
          closeSync(fd);
        }
        if (out.stopped) break;
        continue;
      }
      if (out.paths.length >= job.limit) {
        out.stopped = 'limit';
        break;
      }
      budget.bytes += Buffer.byteLength(path) + 3;
      if (budget.bytes > job.maxOutputBytes) {
        out.stopped = 'bytes';
        break;
      }
      out.paths.push(path);
    }
  } finally {
    closeSync(base.fd);
  }
  return out;
}
