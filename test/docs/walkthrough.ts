// The steps the docs walk-through tests share: read a page, write the files it names into a temp
// workspace, start the daemon with the page's `kheish-daemon serve` flags, run its `sh` blocks
// line by line through the CLI, and check each command's output against the `text` block after it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { runCli } from '../helpers/cli.ts';
import { BIN, type DaemonOptions, startDaemon, type TestDaemon, tempDir } from '../helpers/daemon.ts';
import { type Block, cliArgs, fencedBlocks, fileNamedBefore } from './markdown.ts';

export interface Page {
  text: string;
  lines: string[];
  blocks: Block[];
}

/** docs/<name>, read and split into lines and fenced blocks. */
export function readPage(name: string): Page {
  const text = readFileSync(resolve(import.meta.dirname, '../../docs', name), 'utf8');
  return { text, lines: text.split('\n'), blocks: fencedBlocks(`docs/${name}`, text) };
}

/** Key/value views pad keys to the longest one printed: lines compare with spaces collapsed. */
export const flat = (l: string): string => l.replace(/\s+/g, ' ').trim();

export interface WorkspaceOptions {
  /** The temp directory's prefix. */
  prefix: string;
  /** The blocks whose named files are written (a page's whole list by default). */
  blocks?: Block[];
  /** Which blocks hold files (`toml` and `json` by default). */
  langs?: string[];
  /** How the prose line before a block names its file (first group); `` `path`: `` by default. */
  named?: RegExp;
  /** The paths the page must name, in order. */
  files: string[];
}

/**
 * A temp workspace holding the files the page names (asserted to be exactly `files`), and the
 * page's `kheish-daemon serve` block with its flags, file operands resolved in the workspace.
 */
export function pageWorkspace(
  page: Page,
  opts: WorkspaceOptions,
): { base: string; serve: Block; flags: string[] } {
  const base = realpathSync(tempDir(opts.prefix));
  const langs = opts.langs ?? ['toml', 'json'];
  const files = (opts.blocks ?? page.blocks)
    .filter((b) => langs.includes(b.lang))
    .map((b) => ({ path: fileNamedBefore(page.lines, b.line, opts.named ?? /^`([^`]+)`:$/), body: b.body }))
    .filter((f) => f.path !== undefined);
  assert.deepEqual(
    files.map((f) => f.path),
    opts.files,
  );
  for (const f of files) {
    mkdirSync(dirname(join(base, f.path!)), { recursive: true });
    writeFileSync(join(base, f.path!), `${f.body}\n`);
  }
  const serve = page.blocks.find((b) => b.lang === 'sh' && b.body.startsWith('kheish-daemon serve'))!;
  const flags = cliArgs(serve.body.trim())
    .slice(1)
    .map((w) => (w.startsWith('--') ? w : join(base, w)));
  return { base, serve, flags };
}

/** pageWorkspace, then a daemon started with the page's serve flags (plus `daemon.args`). */
export async function startPageDaemon(
  page: Page,
  opts: WorkspaceOptions & { daemon?: DaemonOptions },
): Promise<{ base: string; serve: Block; d: TestDaemon }> {
  const { base, serve, flags } = pageWorkspace(page, opts);
  const d = await startDaemon({ ...opts.daemon, args: [...flags, ...(opts.daemon?.args ?? [])] });
  return { base, serve, d };
}

/**
 * Fills the `<name>` placeholders of a page line from `ids`; an unknown one stays as written.
 * `names` limits which placeholders count (all by default).
 */
export const filler =
  (ids: Record<string, string>, names = /\w+/) =>
  (s: string): string =>
    s.replace(new RegExp(`<(${names.source})>`, 'g'), (m, k: string) => ids[k] ?? m);

export interface CliLineOptions {
  /** More environment (a page's `export NAME=value` lines). */
  env?: Record<string, string>;
  /** How the line splits into words, program name included (cliArgs's reading by default). */
  words?: (line: string) => string[];
}

/** Runs one page line (`kheish-daemon …`, program name dropped) in `cwd` against `d`; exit 0 asserted. */
export function cliLine(d: { url: string }, cwd: string, line: string, opts: CliLineOptions = {}): string {
  const args = opts.words ? opts.words(line).slice(1) : cliArgs(line);
  const out = runCli(d, args, { cwd, env: opts.env });
  assert.equal(out.status, 0, `${line}\n${out.stdout}\n${out.stderr}`);
  return out.stdout;
}

const execFileP = promisify(execFile);

/** cliLine without blocking the test's event loop (for daemons that live in the test process). */
export async function cliLineAsync(d: { url: string }, cwd: string, line: string): Promise<string> {
  const out = await execFileP(BIN, cliArgs(line), {
    encoding: 'utf8',
    timeout: 30_000,
    cwd,
    env: { ...process.env, KHEISH_DAEMON_URL: d.url },
  }).catch((err: { code?: number; stdout?: string; stderr?: string }) =>
    assert.fail(`${line}\nexit ${err.code}\n${err.stdout}\n${err.stderr}`),
  );
  return out.stdout;
}

/**
 * Every line the page shows is a line the command printed (spaces collapsed by `norm`); with
 * `prefix`, a printed line that starts with it is enough.
 */
export function assertShown(
  printedText: string,
  shown: string,
  where: string,
  opts: { norm?: (l: string) => string; prefix?: boolean } = {},
): void {
  const norm = opts.norm ?? flat;
  const printed = printedText.trimEnd().split('\n').map(norm);
  for (const want of shown.trimEnd().split('\n')) {
    const w = norm(want);
    assert.ok(
      opts.prefix ? printed.some((l) => l.startsWith(w)) : printed.includes(w),
      `${where}: ${JSON.stringify(want)} in\n${printedText}`,
    );
  }
}

export interface ShellBlocksOptions {
  /** Runs one line and returns what it printed (undefined: not a command, e.g. an `export`). */
  run: (line: string) => string | undefined | Promise<string | undefined>;
  /** A block not to run (the page's `serve`). */
  skip?: Block;
  /** Applied to the shown output before comparing (placeholders). */
  fill?: (s: string) => string;
  /** Compares a command's output with the block shown after it; assertShown by default. */
  check?: (printed: string, shown: string, b: Block) => void;
}

/**
 * Runs the lines of each `sh` block in order; where a `text` block follows, checks the last
 * line's output against it. Returns how many outputs were checked.
 */
export async function runShellBlocks(blocks: readonly Block[], opts: ShellBlocksOptions): Promise<number> {
  let checked = 0;
  for (const [i, b] of blocks.entries()) {
    if (b.lang !== 'sh' || b === opts.skip) continue;
    let last = '';
    for (const line of b.body.trim().split('\n')) last = (await opts.run(line)) ?? last;
    const shown = blocks[i + 1];
    if (shown?.lang !== 'text') continue;
    const want = opts.fill ? opts.fill(shown.body) : shown.body;
    if (opts.check) opts.check(last, want, b);
    else assertShown(last, want, b.where);
    checked++;
  }
  return checked;
}
