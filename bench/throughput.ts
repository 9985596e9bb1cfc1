// End-to-end throughput over HTTP: C concurrent sessions, each submitting a run (POST …/runs, 202)
// and waiting until it is completed before submitting the next. Completion is observed on one
// global SSE stream (no polling). A run is one scripted text turn (zero delay). Closed loop: every
// session keeps one run in flight until the window ends, then finishes it; throughput is all
// completed runs over first submit → last completion (so with 1000 sessions, whose runs advance
// in lockstep, the drain is part of the figure rather than cut off by the window).
import { join } from 'node:path';
import { closedLoop } from './lib/closed-loop.ts';
import { type BenchDaemon, removeDir, startBenchDaemon, tempDir, writeScriptedRoutes } from './lib/daemon.ts';
import { api, mustApi, openSse, tailCursor } from './lib/http.ts';
import { round, type Summary } from './lib/stats.ts';

export interface ThroughputOptions {
  levels: number[];
  windowMs: number;
  maxRunsPerLevel: number;
  warmupMs: number;
  sync: 'FULL' | 'NORMAL';
  nodeArgs?: string[];
}

export interface ThroughputLevel {
  concurrency: number;
  completed: number;
  window_s: number;
  runs_per_s: number;
  submit_to_completed_ms: Summary;
  submit_errors: number;
  submit_error_samples?: string[];
  /** Daemon CPU (user + system) per completed run over the level. */
  daemon_cpu_ms_per_run: number;
}

export interface ThroughputResult {
  sync: string;
  levels: ThroughputLevel[];
  daemon_rss_mib: number;
}

const TERMINAL = new Set(['completed', 'failed', 'interrupted', 'cancelled']);

/** Terminal notifications from a global stream, keyed by run id (a 202 may arrive after them). */
export class Completions {
  private readonly done = new Map<string, { status: string; at: number }>();
  private readonly waiters = new Map<string, (v: { status: string; at: number }) => void>();

  onFrame(event: string, data: string, at: number): void {
    if (event !== 'run_updated') return;
    const run = JSON.parse(data).run as { run_id: string; status: string };
    if (!TERMINAL.has(run.status)) return;
    const v = { status: run.status, at };
    const w = this.waiters.get(run.run_id);
    if (w) {
      this.waiters.delete(run.run_id);
      w(v);
    } else this.done.set(run.run_id, v);
  }

  wait(runId: string, timeoutMs: number): Promise<{ status: string; at: number }> {
    const v = this.done.get(runId);
    if (v) {
      this.done.delete(runId);
      return Promise.resolve(v);
    }
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters.delete(runId);
        reject(new Error(`run ${runId} not terminal after ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(runId, (x) => {
        clearTimeout(t);
        resolve(x);
      });
    });
  }
}

/** A daemon the clients submit to, with its own global stream: a client waits where it submitted. */
export interface Target {
  d: BenchDaemon;
  completions: Completions;
  close(): void;
}

export async function openTarget(d: BenchDaemon): Promise<Target> {
  const completions = new Completions();
  const stream = openSse(`${d.url}/v1/events/stream?cursor=${await tailCursor(d.url)}`, (f) =>
    completions.onFrame(f.event, f.data, f.recvMs),
  );
  if ((await stream.status) !== 200) {
    stream.close();
    throw new Error('global event stream refused');
  }
  return { d, completions, close: () => stream.close() };
}

/** `n` sessions; session i is created on (and later submitted to) targets[i % targets.length]. */
export async function createSessions(targets: Target[], n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i += 50) {
    const batch = Array.from({ length: Math.min(50, n - i) }, (_, k) =>
      mustApi(targets[(i + k) % targets.length]!.d.url, 'POST', '/v1/sessions', {}).then(
        (s) => s.session_id as string,
      ),
    );
    out.push(...(await Promise.all(batch)));
  }
  return out;
}

/**
 * One concurrency level. Client `w` submits to targets[w % targets.length] in its own session and
 * waits for the completion on that target's stream. Sessions are created here unless given.
 */
export async function runLevel(
  targets: Target[],
  concurrency: number,
  windowMs: number,
  maxRuns: number,
  given?: string[],
): Promise<ThroughputLevel> {
  const sessions = given ?? (await createSessions(targets, concurrency));
  const cpu = () => targets.reduce((sum, t) => sum + t.d.cpuMs(), 0);
  const cpu0 = cpu();
  const loop = await closedLoop(concurrency, windowMs, maxRuns, async (worker) => {
    const t = targets[worker % targets.length]!;
    const res = await api(t.d.url, 'POST', `/v1/sessions/${sessions[worker]}/runs`, { content: 'go' }).catch(
      (err: Error) => ({ status: 0, body: null, text: err.message }),
    );
    if (res.status !== 202) return { error: `${res.status}: ${res.text}` };
    const done = await t.completions.wait(res.body.run_id as string, 120_000);
    if (done.status !== 'completed') throw new Error(`throughput run ended ${done.status}`);
    return { at: done.at };
  });
  return {
    concurrency,
    completed: loop.completed,
    window_s: loop.window_s,
    runs_per_s: loop.per_s,
    submit_to_completed_ms: loop.latency_ms,
    submit_errors: loop.errors,
    ...(loop.error_samples ? { submit_error_samples: loop.error_samples } : {}),
    daemon_cpu_ms_per_run: round((cpu() - cpu0) / Math.max(1, loop.started - loop.errors), 2),
  };
}

/** Every run of these benchmarks is one scripted text turn. */
export const ONE_TURN_SCRIPT = { default: { turns: [{ text: 'ok' }] } };

export async function runThroughput(opts: ThroughputOptions): Promise<ThroughputResult> {
  const dir = tempDir('kheish-bench-tput-');
  const daemon = await startBenchDaemon({
    stateRoot: join(dir, 'state'),
    routesFile: writeScriptedRoutes(dir, ONE_TURN_SCRIPT),
    env: { KHEISH_SQLITE_SYNCHRONOUS: opts.sync },
    nodeArgs: opts.nodeArgs,
  });
  let target: Target | undefined;
  try {
    target = await openTarget(daemon);
    if (opts.warmupMs > 0) await runLevel([target], 10, opts.warmupMs, opts.maxRunsPerLevel);
    const levels: ThroughputLevel[] = [];
    for (const c of opts.levels)
      levels.push(await runLevel([target], c, opts.windowMs, opts.maxRunsPerLevel));
    return { sync: opts.sync, levels, daemon_rss_mib: round(daemon.rssKiB() / 1024, 1) };
  } finally {
    target?.close();
    await daemon.stop();
    removeDir(dir);
  }
}
