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

export interface StepResult extends StepFigures {
  sync: string;
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

/** Warm-up runs, alternating the two kinds (not timed). */
export async function warmSteps(d: BenchDaemon, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await timedInput(d, i % 2 === 0 ? 'steps' : 'zero');
}

export interface TimedSteps {
  /** Client walls of the `steps`-step runs and of the 0-step runs, interleaved one for one. */
  full: number[];
  zero: number[];
  /** Sessions of the `steps`-step runs (their journals are checked afterwards). */
  sessions: string[];
  /** performance.now() at the start and at the end of the timed part. */
  from: number;
  to: number;
}

export async function timedSteps(d: BenchDaemon, runs: number, budgetMs: number): Promise<TimedSteps> {
  const full: number[] = [];
  const zero: number[] = [];
  const sessions: string[] = [];
  const budget = new Budget(budgetMs);
  const from = performance.now();
  while (full.length < runs && !budget.expired) {
    const r = await timedInput(d, 'steps');
    full.push(r.ms);
    sessions.push(r.session);
    zero.push((await timedInput(d, 'zero')).ms);
  }
  return { full, zero, sessions, from, to: performance.now() };
}

/** One timed run's journal, read back from whichever database the daemon used. */
export interface SessionJournal {
  session: string;
  status: string | undefined;
  entries: Array<{ kind: string; t: number }>;
}

export interface StepFigures {
  steps_per_run: number;
  runs: number;
  step_ms: Summary;
  /** Consecutive assistant-message timestamps in the journal (integer ms, so coarse). */
  step_interval_ms_journal: Summary;
  run_ms: Summary;
  zero_step_run_ms: number;
  journal_rows_per_step: number;
}

/** The step figures; throws when a timed run did not complete with one model turn per step + 1. */
export function stepFigures(steps: number, t: TimedSteps, journals: SessionJournal[]): StepFigures {
  const intervals: number[] = [];
  let total = 0;
  for (const j of journals) {
    if (j.status !== 'completed') throw new Error(`step run in session ${j.session} ended ${j.status}`);
    total += j.entries.length;
    const turns = j.entries.filter((e) => e.kind === 'assistant_message').map((e) => Number(e.t));
    if (turns.length !== steps + 1)
      throw new Error(`session ${j.session}: ${turns.length} model turns, want ${steps + 1}`);
    for (let i = 1; i < turns.length; i++) intervals.push(turns[i]! - turns[i - 1]!);
  }
  const zeroMedian = median(t.zero);
  return {
    steps_per_run: steps,
    runs: t.full.length,
    step_ms: summarize(t.full.map((ms) => (ms - zeroMedian) / steps)),
    step_interval_ms_journal: summarize(intervals),
    run_ms: summarize(t.full),
    zero_step_run_ms: round(zeroMedian),
    journal_rows_per_step: round(journals.length ? total / journals.length / steps : 0, 2),
  };
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
    await warmSteps(daemon, opts.warmup);
    const timed = await timedSteps(daemon, opts.runs, opts.budgetMs);
    const rss = daemon.rssKiB() / 1024;
    const after = opts.after ? await opts.after(daemon) : undefined;
    return {
      sync: opts.sync ?? 'FULL',
      ...stepFigures(opts.steps, timed, sqliteJournals(stateRoot, timed.sessions)),
      daemon_rss_mib: round(rss, 1),
      timeline_ms: {
        ready: round(daemon.readyMs, 1),
        timed_from: round(timed.from - spawnedAt, 1),
        timed_to: round(timed.to - spawnedAt, 1),
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
function sqliteJournals(stateRoot: string, sessions: string[]): SessionJournal[] {
  const db = new Database(join(stateRoot, 'kheish.sqlite'), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare(
      'select kind, created_at_ms as t from journal where session_id = ? order by seq',
    ) as Database.Statement<[string], { kind: string; t: number }>;
    const status = db.prepare('select status from runs where session_id = ?') as Database.Statement<
      [string],
      { status: string }
    >;
    return sessions.map((s) => ({ session: s, status: status.get(s)?.status, entries: rows.all(s) }));
  } finally {
    db.close();
  }
}
