// The floor of "accept and finish a run durably over HTTP": a bare node:http server doing one
// SQLite commit per request (bench/lib/http-floor-server.ts, own process, same Node as the
// daemon, state on the same disk), driven by the throughput benchmark's client pattern
// (bench/lib/closed-loop.ts: C keep-alive clients, one request in flight each, POST with a small
// JSON body, 202 expected). The table sets the daemon's runs/s beside this requests/s at the same
// concurrency: a daemon run needs at least this much (its submit alone is one such request).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { closedLoop } from './lib/closed-loop.ts';
import { cpuOf, NODE, ROOT, removeDir, tempDir } from './lib/daemon.ts';
import { api } from './lib/http.ts';
import { round, type Summary, wallMs } from './lib/stats.ts';

export interface HttpFloorOptions {
  levels: number[];
  windowMs: number;
  maxRunsPerLevel: number;
  warmupMs: number;
  sync: 'FULL' | 'NORMAL';
}

export interface HttpFloorLevel {
  concurrency: number;
  completed: number;
  window_s: number;
  requests_per_s: number;
  request_ms: Summary;
  errors: number;
  error_samples?: string[];
  /** Server CPU (user + system) per request, ms (10 ms clock ticks over the level). */
  server_cpu_ms_per_request: number;
}

export interface HttpFloorResult {
  sync: string;
  levels: HttpFloorLevel[];
}

interface FloorServer {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

function startServer(dir: string, sync: string): Promise<FloorServer> {
  const proc = spawn(
    NODE,
    ['--disable-warning=ExperimentalWarning', join(ROOT, 'bench', 'lib', 'http-floor-server.ts'), dir, sync],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((r) => proc.on('exit', () => r()));
  // A benchmark that throws must not leave the server behind.
  const kill = () => proc.kill('SIGKILL');
  process.once('exit', kill);
  let out = '';
  proc.stderr.on('data', (d) => {
    out += d;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`HTTP floor server did not start:\n${out}`));
    }, 30_000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /listening (http:\/\/\S+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        url: m[1]!,
        pid: proc.pid!,
        stop: async () => {
          process.removeListener('exit', kill);
          if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
          await exited;
        },
      });
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`HTTP floor server exited with ${code}:\n${out}`));
    });
  });
}

async function level(
  server: FloorServer,
  concurrency: number,
  windowMs: number,
  maxRuns: number,
): Promise<HttpFloorLevel> {
  const cpu0 = cpuOf(server.pid);
  const loop = await closedLoop(concurrency, windowMs, maxRuns, async () => {
    const res = await api(server.url, 'POST', '/runs', { content: 'go' }).catch((err: Error) => ({
      status: 0,
      text: err.message,
    }));
    return res.status === 202 ? { at: wallMs() } : { error: `${res.status}: ${res.text}` };
  });
  return {
    concurrency,
    completed: loop.completed,
    window_s: loop.window_s,
    requests_per_s: loop.per_s,
    request_ms: loop.latency_ms,
    errors: loop.errors,
    ...(loop.error_samples ? { error_samples: loop.error_samples } : {}),
    server_cpu_ms_per_request: round((cpuOf(server.pid) - cpu0) / Math.max(1, loop.completed), 3),
  };
}

export async function runHttpFloor(opts: HttpFloorOptions): Promise<HttpFloorResult> {
  const dir = tempDir('kheish-bench-http-floor-');
  const server = await startServer(dir, opts.sync);
  try {
    if (opts.warmupMs > 0) await level(server, 10, opts.warmupMs, opts.maxRunsPerLevel);
    const levels: HttpFloorLevel[] = [];
    for (const c of opts.levels) levels.push(await level(server, c, opts.windowMs, opts.maxRunsPerLevel));
    await server.stop();
    // Every 202 must name a committed row, or the figure is not the floor it claims to be.
    const db = new Database(join(dir, 'http-floor.sqlite'), { readonly: true, fileMustExist: true });
    const rows = (db.prepare('select count(*) as n from runs').get() as { n: number }).n;
    db.close();
    const acked = levels.reduce((n, l) => n + l.completed, 0);
    if (rows < acked) throw new Error(`HTTP floor: ${acked} requests acknowledged, ${rows} rows committed`);
    return { sync: opts.sync, levels };
  } finally {
    await server.stop();
    removeDir(dir);
  }
}
