// `--profile`: the step benchmark again with the daemon under node --cpu-prof (the profile is cut
// to the timed runs), then once more with a statement counter preloaded (bench/lib/sql-counter.ts):
// statements, preparation and execution time per step come from the difference between runs with
// and without steps.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BenchDaemon, ROOT, removeDir, tempDir } from './lib/daemon.ts';
import { round, sleep } from './lib/stats.ts';
import { newestProfile, type ProfileSummary, summarizeProfile } from './profile.ts';
import { runStep, type StepResult, timedInput } from './step.ts';

export interface ProfileOptions {
  steps: number;
  runs: number;
  warmup: number;
  budgetMs: number;
  /** Runs of each kind used to count SQL statements per step. */
  countRuns: number;
}

type Tally = Record<string, number>;
interface Counts {
  counts: Tally;
  prepare_ms: Tally;
  exec_ms: Tally;
}

export interface SqlPerStep {
  /** Statements per step, by leading keyword (begin/commit = transactions). */
  statements: Tally;
  /** Time per step spent preparing (compiling) statements, by keyword, ms. */
  prepare_ms: Tally;
  /** Time per step spent executing them (inside SQLite, fsync included), by keyword, ms. */
  exec_ms: Tally;
}

export interface ProfileResult {
  step: StepResult;
  sql_per_step: SqlPerStep;
  profile: ProfileSummary;
}

/** Per step: (tally over runs with steps − tally over as many runs without) / (runs · steps). */
function perStep(c0: Tally, c1: Tally, c2: Tally, steps: number, digits: number): Tally {
  const per: Tally = {};
  for (const k of new Set([...Object.keys(c1), ...Object.keys(c2)])) {
    const v = ((c1[k] ?? 0) - (c0[k] ?? 0) - ((c2[k] ?? 0) - (c1[k] ?? 0))) / steps;
    if (Math.abs(v) >= 10 ** -digits / 2) per[k] = round(v, digits);
  }
  per.total = round(
    Object.values(per).reduce((a, b) => a + b, 0),
    digits,
  );
  return per;
}

export async function runProfile(opts: ProfileOptions): Promise<ProfileResult> {
  const dir = tempDir('kheish-bench-profile-');
  const countsFile = join(dir, 'sql-counts.json');
  const read = async (d: BenchDaemon): Promise<Counts> => {
    rmSync(countsFile, { force: true });
    process.kill(d.pid, 'SIGUSR2');
    for (let i = 0; i < 100; i++) {
      await sleep(10);
      if (!existsSync(countsFile)) continue;
      try {
        return JSON.parse(readFileSync(countsFile, 'utf8')) as Counts;
      } catch {
        // Caught between create and write: read again.
      }
    }
    throw new Error('the SQL counter did not answer');
  };
  try {
    // Two daemons, so neither measurement disturbs the other: a clean CPU profile of the timed
    // step runs, then statement counts and timings from runs with and without steps.
    const step = await runStep({ ...opts, sync: 'FULL', nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir] });
    const profile = summarizeProfile(newestProfile(dir), {
      from: step.timeline_ms.timed_from,
      to: step.timeline_ms.timed_to,
    });
    const counted = await runStep({
      ...opts,
      runs: 0,
      warmup: Math.min(opts.warmup, 10),
      sync: 'FULL',
      nodeArgs: ['--import', pathToFileURL(join(ROOT, 'bench', 'lib', 'sql-counter.ts')).href],
      env: { KHEISH_BENCH_SQL_COUNTS: countsFile },
      after: async (d): Promise<SqlPerStep> => {
        const c0 = await read(d);
        for (let i = 0; i < opts.countRuns; i++) await timedInput(d, 'steps');
        const c1 = await read(d);
        for (let i = 0; i < opts.countRuns; i++) await timedInput(d, 'zero');
        const c2 = await read(d);
        const n = opts.countRuns * opts.steps;
        return {
          statements: perStep(c0.counts, c1.counts, c2.counts, n, 2),
          prepare_ms: perStep(c0.prepare_ms, c1.prepare_ms, c2.prepare_ms, n, 3),
          exec_ms: perStep(c0.exec_ms, c1.exec_ms, c2.exec_ms, n, 3),
        };
      },
    });
    return { step, sql_per_step: counted.after as SqlPerStep, profile };
  } finally {
    removeDir(dir);
  }
}
