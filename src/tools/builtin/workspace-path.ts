// Confinement of tool paths to the workspace root. Two layers: a lexical check of what the model
// typed (no escape, nothing that only looks like a path), then resolution of symbolic links
// against the real filesystem. A third layer, in secure-fs.ts, re-walks the resolved components
// with no-follow opens so a link swapped in after this check is refused at use time.
import { lstat, realpath, stat } from 'node:fs/promises';
import { isAbsolute, posix, relative, sep } from 'node:path';
import { fail, ToolFailure } from './failure.ts';

export interface WorkspaceRoot {
  /** The root as configured. */
  lexical: string;
  /** The root with symbolic links resolved; every resolved path must stay under it. */
  real: string;
}

export const MAX_PATH_BYTES = 4096;
export const MAX_NAME_BYTES = 255;

export async function openWorkspace(root: string | null): Promise<WorkspaceRoot> {
  if (!root) {
    fail(
      'file tools are disabled: this daemon has no workspace root. Start it with --workspace-root <dir> (or KHEISH_WORKSPACE_ROOT) to let tools read and write files',
    );
  }
  let real: string;
  try {
    real = await realpath(root);
    if (!(await stat(real)).isDirectory()) fail('the configured workspace root is not a directory');
  } catch (err) {
    if (err instanceof ToolFailure) throw err;
    fail(`the configured workspace root cannot be opened (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  return { lexical: posix.normalize(root), real };
}

export function inside(rootReal: string, candidate: string): boolean {
  return candidate === rootReal || candidate.startsWith(rootReal.endsWith(sep) ? rootReal : rootReal + sep);
}

// Characters that render like `.`, `/` or `\` or hide what a name really is. On this filesystem
// they are ordinary bytes, so they cannot escape; they are refused because a model (or a prompt
// injection) using them is trying to make a path look like something it is not.
const SLASH_LOOKALIKES =
  /[\u2215\u2044\u29f8\u2571\u29f5\u29f9\u2216\u244a\u1735\u2cc6\u3033\u30ce\u31d3\u4e3f]/u;
const INVISIBLE = /[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad]/u;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

function decodePercent(text: string): string {
  return text.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

function checkName(name: string, shown: string): void {
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) {
    fail(`path component of \`${shown}\` is longer than ${MAX_NAME_BYTES} bytes`);
  }
  const nfkc = name.normalize('NFKC');
  if (nfkc !== name && (nfkc === '.' || nfkc === '..' || /[/\\]/.test(nfkc))) {
    fail(`\`${shown}\` uses Unicode characters that look like \`.\`, \`/\` or \`\\\`; write a plain path`);
  }
  let decoded = name;
  for (let i = 0; i < 3 && decoded.includes('%'); i++) decoded = decodePercent(decoded);
  if (decoded !== name && (decoded === '.' || decoded === '..' || /[/\\\0]/.test(decoded))) {
    fail(`\`${shown}\` looks URL-encoded (e.g. %2e or %2f); paths are not URL-decoded, write a plain path`);
  }
}

/**
 * The workspace-relative components of `raw`, normalized lexically. `..` may move around inside the
 * workspace but never above it; absolute paths are accepted only when they point inside the root.
 */
export function lexicalComponents(root: WorkspaceRoot, raw: unknown, field: string): string[] {
  if (typeof raw !== 'string') fail(`\`${field}\` must be a string`);
  const shown = raw.length > 200 ? `${raw.slice(0, 200)}…` : raw;
  if (raw.includes('\0')) fail(`\`${field}\` contains a NUL byte; refusing`);
  if (CONTROL.test(raw)) fail(`\`${field}\` contains control characters; refusing`);
  if (Buffer.byteLength(raw) > MAX_PATH_BYTES) fail(`\`${field}\` is longer than ${MAX_PATH_BYTES} bytes`);
  if (raw.includes('\\')) {
    fail(`\`${shown}\` contains a backslash; this workspace uses \`/\` as the only separator`);
  }
  if (INVISIBLE.test(raw)) fail(`\`${shown}\` contains invisible or bidirectional formatting characters`);
  if (SLASH_LOOKALIKES.test(raw)) fail(`\`${shown}\` contains a character that looks like a slash`);
  if (raw === '~' || raw.startsWith('~/')) {
    fail(`\`${shown}\`: \`~\` is not expanded; use a path relative to the workspace`);
  }
  let rest = raw;
  if (isAbsolute(raw)) {
    const norm = posix.normalize(raw);
    const base = [root.lexical, root.real].find(
      (r) => norm === r || norm.startsWith(r.endsWith('/') ? r : `${r}/`),
    );
    if (base === undefined) {
      fail(
        `\`${shown}\` is an absolute path outside the workspace; use a path relative to the workspace root`,
      );
    }
    rest = norm.slice(base.length);
  }
  const out: string[] = [];
  for (const part of rest.split('/')) {
    if (part === '' || part === '.') continue;
    checkName(part, shown);
    if (part === '..') {
      if (out.length === 0) fail(`\`${shown}\` escapes the workspace root with \`..\`; refusing`);
      out.pop();
      continue;
    }
    out.push(part);
  }
  return out;
}

export function display(components: string[]): string {
  return components.length === 0 ? '.' : components.join('/');
}

export interface Canonical {
  /** Components below the real root with every existing symbolic link resolved. */
  components: string[];
  /** How many leading components exist on disk (the rest would be created). */
  existing: number;
}

/**
 * Resolves symbolic links in the deepest existing prefix of `components` and checks that the
 * result is still inside the workspace. The part that does not exist yet must not start with a
 * dangling link (creating through it would land wherever the link points).
 */
export async function canonicalize(
  root: WorkspaceRoot,
  components: string[],
  shown: string,
): Promise<Canonical> {
  for (let i = components.length; i >= 0; i--) {
    const candidate = [root.real, ...components.slice(0, i)].join('/');
    let real: string;
    try {
      real = await realpath(candidate);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') continue;
      if (code === 'ELOOP') fail(`\`${shown}\` goes through a symbolic link loop; refusing`);
      if (code === 'ENOTDIR') fail(`a component of \`${shown}\` is a file, not a directory`);
      if (code === 'EACCES') fail(`permission denied while resolving \`${shown}\``);
      throw err;
    }
    if (!inside(root.real, real)) {
      fail(`\`${shown}\` resolves outside the workspace through a symbolic link; refusing`);
    }
    const rest = components.slice(i);
    if (rest.length > 0) {
      const next = await lstat(`${real}/${rest[0]}`).catch(() => null);
      if (next?.isSymbolicLink()) {
        fail(`\`${shown}\` goes through a symbolic link whose target does not exist; refusing`);
      }
    }
    const prefix = relative(root.real, real);
    const head = prefix === '' ? [] : prefix.split(sep);
    return { components: [...head, ...rest], existing: head.length };
  }
  fail('the workspace root disappeared');
}

export interface ExistingTarget {
  root: WorkspaceRoot;
  components: string[];
  display: string;
}

/** A path that must exist (symbolic links inside the workspace are followed). */
export async function resolveExisting(
  root: WorkspaceRoot,
  raw: unknown,
  field: string,
): Promise<ExistingTarget> {
  const lexical = lexicalComponents(root, raw, field);
  const shown = display(lexical);
  const canon = await canonicalize(root, lexical, shown);
  if (canon.existing < canon.components.length) {
    fail(`\`${shown}\` does not exist; check the path with list_files or glob_search`);
  }
  return { root, components: canon.components, display: shown };
}

export interface WriteTarget {
  root: WorkspaceRoot;
  /** Canonical parent directory components (may not exist yet). */
  parent: string[];
  leaf: string;
  display: string;
}

/**
 * A path to create or replace. The parent may be reached through links inside the workspace; the
 * file itself must not be a link (writing through one would change a file the caller did not name).
 */
export async function resolveForWrite(
  root: WorkspaceRoot,
  raw: unknown,
  field: string,
): Promise<WriteTarget> {
  const lexical = lexicalComponents(root, raw, field);
  const shown = display(lexical);
  if (lexical.length === 0)
    fail(`\`${field}\` must name a file inside the workspace, not the workspace root`);
  const leaf = lexical[lexical.length - 1]!;
  const parent = await canonicalize(root, lexical.slice(0, -1), shown);
  if (parent.existing === parent.components.length) {
    const full = [root.real, ...parent.components, leaf].join('/');
    const info = await lstat(full).catch(() => null);
    if (info?.isSymbolicLink()) {
      const target = await realpath(full).catch(() => null);
      const hint =
        target && inside(root.real, target)
          ? ` Write to \`${display(relative(root.real, target).split(sep))}\` instead.`
          : '';
      fail(`\`${shown}\` is a symbolic link; refusing to write through it.${hint}`);
    }
    if (info?.isDirectory()) fail(`\`${shown}\` is a directory; give a file path`);
    if (info && !info.isFile()) fail(`\`${shown}\` is not a regular file (device, FIFO or socket); refusing`);
  }
  return { root, parent: parent.components, leaf, display: shown };
}

/** A stable key naming one file for the per-path locks. */
export function lockKey(root: WorkspaceRoot, components: string[]): string {
  return [root.real, ...components].join('/');
}
