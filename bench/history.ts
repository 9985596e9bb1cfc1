// Cost of a session's history: the step benchmark's scripted tool run (bench/step.ts, `steps`
// tool calls then an answer) timed in a fresh session and in one session that already holds
// `historyRuns` earlier runs. The history is made through the API (one-turn inline runs, the same
// path a long-lived session takes), not planted in the file. Timed runs alternate between the two
// sessions, in alternating order, in one daemon, so both see the same machine; the old session
// also gains each timed run, so its history grows by warmup + reps runs while it is measured.
// A session's step should not get slower as it ages: the target is history p50 ≤ 1.2× fresh p50.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { removeDir, startBenchDaemon, tempDir, writeScriptedRoutes } from './lib/daemon.ts';
import { mustApi } from './lib/http.ts';
import { Budget, round, type Summary, summarize } from './lib/stats.ts';
import { inputMs, stepScript, timedInput } from './step.ts';

export interface HistoryOptions {
  /** Tool steps of the timed run (model turns = steps + 1). */
  steps: number;
  /** One-turn runs put into the old session before timing. */
  historyRuns: number;
  /** Timed runs of each kind (fresh session, old session). */
  reps: number;
  warmup: number;
  /** Bound of the timed part; seeding has its own bound (seedTimeoutMs). */
  budgetMs: number;
  seedTimeoutMs?: number;
  sync?: 'FULL' | 'NORMAL';
}

export interface HistoryResult {
  sync: string;
  steps_per_run: number;
  history_runs: number;
  reps: number;
  /** Client wall of the `steps`-step run, inline /input, submit → completed. */
  fresh_run_ms: Summary;
  history_run_ms: Summary;
  /** history p50 / fresh p50 (target ≤ 1.2). */
  ratio_p50: number;
  seed: {
    seconds: number;
    /** One-turn runs at the start and at the end of seeding: how a trivial run ages. */
    first_runs_ms: Summary;
    last_runs_ms: Summary;
  };
  /** Journal rows of the old session when timing ended. */
  history_journal_rows: number;
  daemon_rss_mib: number;
}

export async function runHistory(opts: HistoryOptions): Promise<HistoryResult> {
  const dir = tempDir('kheish-bench-history-');
  const stateRoot = join(dir, 'state');
  const daemon = await startBenchDaemon({
    stateRoot,
    routesFile: writeScriptedRoutes(dir, stepScript(opts.steps)),
    env: { KHEISH_SQLITE_SYNCHRONOUS: opts.sync ?? 'FULL' },
  });
  try {
    // The old session: one-turn runs (the script's default answer), back to back.
    const old = (await mustApi(daemon.url, 'POST', '/v1/sessions', {})).session_id as string;
    const seedMs: number[] = [];
    const seedTimeoutMs = opts.seedTimeoutMs ?? 600_000;
    const seedBudget = new Budget(seedTimeoutMs);
    const t0 = performance.now();
    for (let i = 0; i < opts.historyRuns; i++) {
      if (seedBudget.expired)
        throw new Error(`seeding stopped at ${i}/${opts.historyRuns} runs after ${seedTimeoutMs} ms`);
      seedMs.push(await inputMs(daemon, old, `earlier run ${i}`));
    }
    const seedS = (performance.now() - t0) / 1000;

    const fresh: number[] = [];
    const aged: number[] = [];
    const freshSessions: string[] = [];
    const pair = async (i: number, record: boolean) => {
      // Alternating order, so neither kind always runs right after the other.
      const runFresh = async () => {
        const r = await timedInput(daemon, 'steps');
        if (record) fresh.push(r.ms);
        freshSessions.push(r.session);
      };
      const runOld = async () => {
        const ms = await inputMs(daemon, old, 'steps');
        if (record) aged.push(ms);
      };
      if (i % 2 === 0) {
        await runFresh();
        await runOld();
      } else {
        await runOld();
        await runFresh();
      }
    };
    for (let i = 0; i < opts.warmup; i++) await pair(i, false);
    const budget = new Budget(opts.budgetMs);
    for (let i = 0; i < opts.reps && !budget.expired; i++) await pair(i, true);
    const rss = daemon.rssKiB() / 1024;
    const oldTurns = opts.historyRuns + freshSessions.length * (opts.steps + 1);
    const journalRows = checkRuns(stateRoot, { old, oldTurns, fresh: freshSessions, steps: opts.steps });
    const freshSummary = summarize(fresh);
    const agedSummary = summarize(aged);
    const edge = Math.max(1, Math.min(100, Math.floor(seedMs.length / 10)));
    return {
      sync: opts.sync ?? 'FULL',
      steps_per_run: opts.steps,
      history_runs: opts.historyRuns,
      reps: fresh.length,
      fresh_run_ms: freshSummary,
      history_run_ms: agedSummary,
      ratio_p50: round(agedSummary.p50 / freshSummary.p50, 3),
      seed: {
        seconds: round(seedS, 2),
        first_runs_ms: summarize(seedMs.slice(0, edge)),
        last_runs_ms: summarize(seedMs.slice(-edge)),
      },
      history_journal_rows: journalRows,
      daemon_rss_mib: round(rss, 1),
    };
  } finally {
    const code = await daemon.stop();
    if (code !== 0)
      process.stderr.write(`history daemon exited with ${code}\n${daemon.logs().slice(-2000)}\n`);
    removeDir(dir);
  }
}

/**
 * A figure only counts if the runs did what the script says: every run completed, and every
 * timed run made all its model turns. Returns the old session's journal rows.
 */
function checkRuns(
  stateRoot: string,
  { old, oldTurns, fresh, steps }: { old: string; oldTurns: number; fresh: string[]; steps: number },
): number {
  const db = new Database(join(stateRoot, 'kheish.sqlite'), { readonly: true, fileMustExist: true });
  try {
    const notDone = db.prepare("select count(*) as n from runs where status <> 'completed'").get() as {
      n: number;
    };
    if (notDone.n > 0) throw new Error(`${notDone.n} benchmark runs did not complete`);
    const turns = db.prepare(
      "select count(*) as n from journal where session_id = ? and kind = 'assistant_message'",
    ) as Database.Statement<[string], { n: number }>;
    for (const s of fresh) {
      const n = turns.get(s)!.n;
      if (n !== steps + 1) throw new Error(`fresh session ${s}: ${n} model turns, want ${steps + 1}`);
    }
    const n = turns.get(old)!.n;
    if (n !== oldTurns) throw new Error(`old session: ${n} model turns, want ${oldTurns}`);
    const rows = db.prepare('select count(*) as n from journal where session_id = ?').get(old) as {
      n: number;
    };
    return rows.n;
  } finally {
    db.close();
  }
}
