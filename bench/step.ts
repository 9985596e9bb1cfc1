// Durable step overhead of the daemon: one step = a scripted model turn asking for one tool call
// (an unknown tool, so the engine records an error result and goes on) + the tool result, each
// committed. A run of `steps` steps ends with a text turn. Timing mirrors bench/langgraph.ts
// exactly: per run, (wall of a `steps`-step run − median wall of a 0-step run) / steps, measured
// by the client around the inline POST /input (submit → completed), runs interleaved, one fresh
// session per run. Individual step intervals come from the run's journal (1 ms timestamps).
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { type BenchDaemon, removeDir, startBenchDaemon, tempDir, writeScriptedRoutes } from './lib/daemon.ts';
import { mustApi } from './lib/http.ts';
import { Budget, median, round, type Summary, summarize } from './lib/stats.ts';

export interface StepOptions {
  steps: number;
  runs: number;
  warmup: number;
  budgetMs: number;
  sync?: 'FULL' | 'NORMAL';
  /** Extra Node flags for the daemon (e.g. --cpu-prof). */
  nodeArgs?: string[];
  env?: Record<string, string>;
  /** Called after the timed runs, before the daemon is stopped (e.g. to count SQL statements). */
  after?: (d: BenchDaemon) => Promise<unknown>;
}

export interface StepResult {
  sync: string;
  steps_per_run: number;
  runs: number;
  step_ms: Summary;
  /** Consecutive assistant-message timestamps in the journal (integer ms, so coarse). */
  step_interval_ms_journal: Summary;
  run_ms: Summary;
  zero_step_run_ms: number;
  journal_rows_per_step: number;
  daemon_rss_mib: number;
  /** Timeline from spawn, for cutting a CPU profile to the timed part. */
  timeline_ms: { ready: number; timed_from: number; timed_to: number };
  after?: unknown;
}

export function stepScript(steps: number): unknown {
  const call = { tool_calls: [{ name: 'bench_noop', arguments: {} }] };
  return {
    rules: [{ match: '^steps$', turns: [...Array.from({ length: steps }, () => call), { text: 'done' }] }],
    default: { turns: [{ text: 'done' }] },
  };
}

/** Client wall of one inline POST /input in an existing session (submit → completed), ms. */
export async function inputMs(d: BenchDaemon, session: string, content: string): Promise<number> {
  const t0 = performance.now();
  await mustApi(d.url, 'POST', `/v1/sessions/${session}/input`, { content }, [200]);
  return performance.now() - t0;
}

/** One run in a fresh session (created before the clock starts). */
export async function timedInput(d: BenchDaemon, content: string): Promise<{ ms: number; session: string }> {
  const session = (await mustApi(d.url, 'POST', '/v1/sessions', {})).session_id as string;
  return { ms: await inputMs(d, session, content), session };
}

export async function runStep(opts: StepOptions): Promise<StepResult> {
  const dir = tempDir('kheish-bench-step-');
  const stateRoot = join(dir, 'state');
  const daemon = await startBenchDaemon({
    stateRoot,
    routesFile: writeScriptedRoutes(dir, stepScript(opts.steps)),
    env: { KHEISH_SQLITE_SYNCHRONOUS: opts.sync ?? 'FULL', ...opts.env },
    nodeArgs: opts.nodeArgs,
  });
  const spawnedAt = performance.now() - daemon.readyMs;
  try {
    for (let i = 0; i < opts.warmup; i++) await timedInput(daemon, i % 2 === 0 ? 'steps' : 'zero');
    const full: number[] = [];
    const zero: number[] = [];
    const sessions: string[] = [];
    const budget = new Budget(opts.budgetMs);
    const timedFrom = performance.now() - spawnedAt;
    while (full.length < opts.runs && !budget.expired) {
      const r = await timedInput(daemon, 'steps');
      full.push(r.ms);
      sessions.push(r.session);
      zero.push((await timedInput(daemon, 'zero')).ms);
    }
    const timedTo = performance.now() - spawnedAt;
    const rss = daemon.rssKiB() / 1024;
    const after = opts.after ? await opts.after(daemon) : undefined;
    const journal = journalIntervals(stateRoot, sessions, opts.steps);
    const zeroMedian = median(zero);
    return {
      sync: opts.sync ?? 'FULL',
      steps_per_run: opts.steps,
      runs: full.length,
      step_ms: summarize(full.map((ms) => (ms - zeroMedian) / opts.steps)),
      step_interval_ms_journal: summarize(journal.intervals),
      run_ms: summarize(full),
      zero_step_run_ms: round(zeroMedian),
      journal_rows_per_step: round(journal.rowsPerStep, 2),
      daemon_rss_mib: round(rss, 1),
      timeline_ms: {
        ready: round(daemon.readyMs, 1),
        timed_from: round(timedFrom, 1),
        timed_to: round(timedTo, 1),
      },
      ...(after === undefined ? {} : { after }),
    };
  } finally {
    const code = await daemon.stop();
    if (code !== 0) process.stderr.write(`step daemon exited with ${code}\n${daemon.logs().slice(-2000)}\n`);
    removeDir(dir);
  }
}

/** Reads the timed runs' journals (read-only, WAL readers do not block the daemon). */
function journalIntervals(stateRoot: string, sessions: string[], steps: number) {
  const db = new Database(join(stateRoot, 'kheish.sqlite'), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare(
      'select kind, created_at_ms as t from journal where session_id = ? order by seq',
    ) as Database.Statement<[string], { kind: string; t: number }>;
    const status = db.prepare('select status from runs where session_id = ?') as Database.Statement<
      [string],
      { status: string }
    >;
    const intervals: number[] = [];
    let total = 0;
    for (const s of sessions) {
      const run = status.get(s);
      if (run?.status !== 'completed') throw new Error(`step run in session ${s} ended ${run?.status}`);
      const entries = rows.all(s);
      total += entries.length;
      const turns = entries.filter((e) => e.kind === 'assistant_message').map((e) => Number(e.t));
      if (turns.length !== steps + 1)
        throw new Error(`session ${s}: ${turns.length} model turns, want ${steps + 1}`);
      for (let i = 1; i < turns.length; i++) intervals.push(turns[i]! - turns[i - 1]!);
    }
    return { intervals, rowsPerStep: sessions.length ? total / sessions.length / steps : 0 };
  } finally {
    db.close();
  }
}
