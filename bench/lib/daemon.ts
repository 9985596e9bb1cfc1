// Starts the daemon under test in its own process (the project's Node 24, src/main.ts serve) on a
// free loopback port, optionally with extra Node flags (--cpu-prof) and environment, and measures
// how long it took to become ready. The benchmarks drive it over HTTP from this process only.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');

/** The Node the daemon runs on: the project's node@24 devDependency, else this process's. */
export const NODE = (() => {
  const local = join(ROOT, 'node_modules', 'node', 'bin', 'node');
  return existsSync(local) ? local : process.execPath;
})();

export interface BenchDaemonOptions {
  stateRoot: string;
  routesFile?: string;
  args?: string[];
  env?: Record<string, string>;
  nodeArgs?: string[];
  readyTimeoutMs?: number;
}

export interface BenchDaemon {
  url: string;
  pid: number;
  /** Spawn → the "kheish-daemon ready" log line, in ms. */
  readyMs: number;
  proc: ChildProcess;
  logs(): string;
  /** Resident set size of the daemon process, in KiB (Linux /proc). */
  rssKiB(): number;
  /** CPU time (user + system) the daemon process has used so far, in ms. */
  cpuMs(): number;
  /** SIGTERM (drain) and wait for the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait. */
  kill(): Promise<void>;
}

export function tempDir(prefix = 'kheish-bench-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes a scripted routes file (and its script) into `dir`; returns the routes file path. */
export function writeScriptedRoutes(dir: string, script: unknown, extraRouteToml = ''): string {
  writeFileSync(join(dir, 'script.json'), JSON.stringify(script));
  const path = join(dir, 'routes.toml');
  writeFileSync(
    path,
    `version = 1\ndefault_route = "local"\n\n[routes.local]\ndriver = "scripted"\ndefault_model = "scripted"\nscript_file = "script.json"\n${extraRouteToml}`,
  );
  return path;
}

export function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** utime + stime of a process from /proc/<pid>/stat (clock ticks, 100 per second on Linux). */
export function cpuOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

const live = new Set<ChildProcess>();
let guarded = false;

/** A benchmark that throws or is interrupted must not leave a daemon behind. */
function guard(): void {
  if (guarded) return;
  guarded = true;
  const killAll = () => {
    for (const p of live) p.kill('SIGKILL');
  };
  process.once('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => {
      killAll();
      process.exit(130);
    });
}

export async function startBenchDaemon(opts: BenchDaemonOptions): Promise<BenchDaemon> {
  guard();
  const args = [
    ...(opts.nodeArgs ?? []),
    '--disable-warning=ExperimentalWarning',
    join(ROOT, 'src', 'main.ts'),
    'serve',
    '--bind',
    '127.0.0.1:0',
    '--state-root',
    opts.stateRoot,
    '--log-format',
    'json',
    ...(opts.routesFile ? ['--routes-file', opts.routesFile] : []),
    ...(opts.args ?? []),
  ];
  const t0 = performance.now();
  const proc = spawn(NODE, args, {
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(proc);
  let output = '';
  const keep = (d: Buffer) => {
    output += d;
    // Logs are only for failure messages: keep the tail bounded.
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  proc.stdout!.on('data', keep);
  const exited = new Promise<number | null>((r) => {
    proc.on('exit', (code) => {
      live.delete(proc);
      r(code);
    });
  });
  let readyMs = 0;
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`daemon not ready in ${opts.readyTimeoutMs ?? 60_000} ms:\n${output}`)),
      opts.readyTimeoutMs ?? 60_000,
    );
    let seen = '';
    proc.stderr!.on('data', (d: Buffer) => {
      keep(d);
      if (readyMs > 0) return;
      seen += d;
      const m = /"url":"(http:\/\/[^"]+)"[^\n]*"msg":"kheish-daemon ready"/.exec(seen);
      if (m) {
        readyMs = performance.now() - t0;
        clearTimeout(timer);
        seen = '';
        resolveUrl(m[1]!);
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`daemon exited with ${code} before it was ready:\n${output}`));
    });
  });
  return {
    url,
    pid: proc.pid!,
    readyMs,
    proc,
    logs: () => output,
    rssKiB: () => rssOf(proc.pid!),
    cpuMs: () => cpuOf(proc.pid!),
    stop: async () => {
      if (proc.exitCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    kill: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
