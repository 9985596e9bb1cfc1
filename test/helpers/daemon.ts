// Test harness: starts real daemon processes (bin/kheish-daemon serve) on a free loopback port
// with a temporary state root, and kills or restarts them like an operator (or a crash) would.

import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { type FreshSchema, freshSchema, testStoreIsPostgres } from './pg-schema.ts';

const ROOT = resolve(import.meta.dirname, '../..');
export const BIN = join(ROOT, 'bin', 'kheish-daemon');

export interface DaemonOptions {
  /** Reuse a state root (for restarts); a fresh temp dir otherwise. */
  stateRoot?: string;
  /** A scripted-driver script: written next to a generated routes file. */
  script?: unknown;
  /** Raw routes TOML (takes precedence over `script`). */
  routesToml?: string;
  args?: string[];
  env?: Record<string, string>;
  /**
   * Run on this PostgreSQL URL (a replica of another daemon's database; see startReplica). Without
   * it, KHEISH_TEST_STORE=postgres gives each new daemon a fresh schema, dropped by cleanup().
   */
  databaseUrl?: string;
}

/** Harness-private state carried from a daemon to its restarts. */
interface Carried {
  /** The schema this daemon generation owns (dropped by its cleanup). */
  schema: FreshSchema | null;
  /** --database-url and --replica-id the harness added. */
  storeArgs: string[];
}

export interface TestDaemon {
  url: string;
  stateRoot: string;
  /** The PostgreSQL URL the daemon runs on (with its search_path), or null on SQLite. */
  databaseUrl: string | null;
  proc: ChildProcess;
  logs(): string;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** Starts a new process on the same state root and routes. */
  restart(extra?: Partial<DaemonOptions>): Promise<TestDaemon>;
  /** Removes the state root and drops the PostgreSQL schema the harness made (after the process is gone). */
  cleanup(): Promise<void>;
  /** cleanup() for process-exit handlers: waits for the schema drop synchronously. */
  cleanupSync(): void;
}

export function tempDir(prefix = 'kheish-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writeRoutes(dir: string, script: unknown): string {
  writeFileSync(join(dir, 'script.json'), JSON.stringify(script));
  const toml = `version = 1\ndefault_route = "local"\n\n[routes.local]\ndriver = "scripted"\ndefault_model = "scripted"\nscript_file = "script.json"\n`;
  const path = join(dir, 'routes.toml');
  writeFileSync(path, toml);
  return path;
}

export function startDaemon(opts: DaemonOptions = {}): Promise<TestDaemon> {
  return startGeneration(opts, null);
}

/**
 * A second daemon on the same database as `primary` (PostgreSQL replicas), with a state root and
 * replica id of its own; its cleanup() leaves the shared schema to the primary's.
 */
export function startReplica(
  primary: TestDaemon,
  opts: Omit<DaemonOptions, 'databaseUrl'> = {},
): Promise<TestDaemon> {
  if (!primary.databaseUrl)
    throw new Error('startReplica needs a daemon on PostgreSQL (KHEISH_TEST_STORE=postgres)');
  return startDaemon({ ...opts, databaseUrl: primary.databaseUrl });
}

/** --database-url and --replica-id for a new daemon (not a restart), and the schema it owns. */
async function storeArgsFor(opts: DaemonOptions): Promise<Carried> {
  const user = opts.args ?? [];
  if (user.includes('--database-url')) return { schema: null, storeArgs: [] };
  let schema: FreshSchema | null = null;
  let url = opts.databaseUrl;
  if (url === undefined && testStoreIsPostgres()) {
    schema = await freshSchema();
    url = schema.url;
  }
  if (url === undefined) return { schema: null, storeArgs: [] };
  // A stable replica id: a restarted daemon takes its own run leases back at once instead of
  // waiting for them to expire as a stranger's would.
  const replica = user.includes('--replica-id')
    ? []
    : ['--replica-id', `test-${randomBytes(4).toString('hex')}`];
  return { schema, storeArgs: ['--database-url', url, ...replica] };
}

async function startGeneration(opts: DaemonOptions, carried: Carried | null): Promise<TestDaemon> {
  const store = carried ?? (await storeArgsFor(opts));
  try {
    return await spawnDaemon(opts, store);
  } catch (err) {
    // A first start that failed leaves nobody to drop its schema; a restart's belongs to the caller.
    if (!carried) await store.schema?.drop().catch(() => undefined);
    throw err;
  }
}

async function spawnDaemon(opts: DaemonOptions, carried: Carried): Promise<TestDaemon> {
  const stateRoot = opts.stateRoot ?? tempDir();
  const args = [
    'serve',
    '--bind',
    '127.0.0.1:0',
    '--state-root',
    stateRoot,
    '--log-format',
    'json',
    ...carried.storeArgs,
    ...(opts.args ?? []),
  ];
  // Files the harness itself writes; cleanup() removes them (never a caller's own files).
  const scratch: string[] = [];
  if (opts.routesToml !== undefined) {
    const path = join(stateRoot, '..', `${stateRoot.split('/').pop()}-routes.toml`);
    writeFileSync(path, opts.routesToml);
    args.push('--routes-file', path);
    scratch.push(path);
  } else if (opts.script !== undefined) {
    const dir = tempDir('kheish-routes-');
    args.push('--routes-file', writeRoutes(dir, opts.script));
    scratch.push(dir);
  }
  const proc = spawn(BIN, args, {
    env: { ...process.env, KHEISH_SSE_HEARTBEAT_MS: '500', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout!.on('data', (d) => {
    output += d;
  });
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`daemon did not become ready in 20 s:\n${output}`)),
      20_000,
    );
    proc.stderr!.on('data', (d) => {
      output += d;
      const m = /"url":"(http:\/\/[^"]+)"[^\n]*"msg":"kheish-daemon ready"/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1]!);
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`daemon exited with ${code} before it was ready:\n${output}`));
    });
  });
  const exited = new Promise<number | null>((r) => {
    if (proc.exitCode !== null) r(proc.exitCode);
    proc.on('exit', (code) => r(code));
  });
  const dbIndex = proc.spawnargs.indexOf('--database-url');
  const removeFiles = () => {
    rmSync(stateRoot, { recursive: true, force: true });
    for (const path of scratch) rmSync(path, { recursive: true, force: true });
  };
  const daemon: TestDaemon = {
    url,
    stateRoot,
    databaseUrl: dbIndex >= 0 ? proc.spawnargs[dbIndex + 1]! : null,
    proc,
    logs: () => output,
    kill: async () => {
      proc.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      proc.kill('SIGTERM');
      return exited;
    },
    restart: (extra = {}) =>
      startGeneration(
        {
          ...opts,
          ...extra,
          stateRoot,
          script: undefined,
          routesToml: undefined,
          args: [...restartArgs(args, opts.args ?? []), ...(extra.args ?? [])],
        },
        carried,
      ),
    cleanup: async () => {
      removeFiles();
      await carried.schema?.drop();
    },
    cleanupSync: () => {
      removeFiles();
      carried.schema?.dropSync();
    },
  };
  return daemon;
}

/** The caller's own flags plus the routes file the harness wrote (bind/state-root/log are added again). */
function restartArgs(args: string[], userArgs: string[]): string[] {
  if (userArgs.includes('--routes-file')) return userArgs;
  const i = args.indexOf('--routes-file');
  return i >= 0 ? ['--routes-file', args[i + 1]!, ...userArgs] : userArgs;
}

// ------------------------------------------------------------------ tiny HTTP helpers for tests

export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export async function http<T = any>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpResult<T>> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const res = await fetch(base + path, init);
  const text = await res.text();
  let parsed: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('json')) parsed = text ? JSON.parse(text) : null;
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}

/** Polls a run until `done(run)` holds (default: terminal), failing after `timeoutMs`. */
export async function waitForRun(
  base: string,
  runId: string,
  done: (run: any) => boolean = (r) => ['completed', 'failed', 'interrupted', 'cancelled'].includes(r.status),
  timeoutMs = 15_000,
): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await http(base, 'GET', `/v1/runs/${runId}`);
    if (done(body)) return body;
    if (Date.now() > deadline) throw new Error(`run ${runId} did not settle: ${JSON.stringify(body)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface SseFrame {
  id?: string;
  event: string;
  data: any;
}

/** Trace kinds streamed to live readers only, never stored or replayed (docs/events.md). */
export const LIVE_ONLY_TRACES: ReadonlySet<string> = new Set(['assistant_text_delta', 'model_turn_started']);

export const isLiveOnlyFrame = (f: SseFrame): boolean =>
  f.event === 'trace' && LIVE_ONLY_TRACES.has(f.data?.trace?.kind);

/** Reads SSE frames until `until(frames)` is true or the timeout passes; then closes. */
export async function collectSse(
  url: string,
  opts: {
    headers?: Record<string, string>;
    until?: (frames: SseFrame[]) => boolean;
    timeoutMs?: number;
  } = {},
): Promise<{ status: number; contentType: string | null; frames: SseFrame[]; raw: string }> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), opts.timeoutMs ?? 5000);
  const res = await fetch(url, { headers: opts.headers, signal: ac.signal });
  const frames: SseFrame[] = [];
  let raw = '';
  if (res.status !== 200 || !res.body) {
    clearTimeout(timer);
    return {
      status: res.status,
      contentType: res.headers.get('content-type'),
      frames,
      raw: await res.text(),
    };
  }
  const decoder = new TextDecoder();
  let buf = '';
  try {
    for await (const chunk of res.body) {
      const text = decoder.decode(chunk as Uint8Array, { stream: true });
      raw += text;
      buf += text;
      for (let idx = buf.indexOf('\n\n'); idx >= 0; idx = buf.indexOf('\n\n')) {
        const block = buf.slice(0, idx);
        buf = buf.slice(idx + 2);
        const f: SseFrame = { event: 'message', data: '' };
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('id: ')) f.id = line.slice(4);
          else if (line.startsWith('event: ')) f.event = line.slice(7);
          else if (line.startsWith('data: ')) data.push(line.slice(6));
        }
        f.data = JSON.parse(data.join('\n'));
        frames.push(f);
      }
      if (opts.until?.(frames)) break;
    }
  } catch (err) {
    if (!ac.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  return { status: res.status, contentType: res.headers.get('content-type'), frames, raw };
}

/**
 * Journal payloads of one run and kind, read straight from the state root's SQLite file (SQLite-only
 * integration tests; suites that also run on PostgreSQL use journalPayloads from state-query.ts).
 */
export function readJournal(stateRoot: string, runId: string, kind: string): any[] {
  const db = new Database(join(stateRoot, 'kheish.sqlite'), { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare('select payload from journal where run_id = ? and kind = ? order by seq')
      .all(runId, kind) as Array<{ payload: string }>;
    return rows.map((r) => JSON.parse(r.payload));
  } finally {
    db.close();
  }
}
