// `npm run bench` — every benchmark in one run, side by side: the SQLite floor, LangGraph.js and
// the daemon's durable step, and the step on PostgreSQL; the step in an old session (history); HTTP
// throughput beside a bare node:http + SQLite floor, and by store (SQLite, PostgreSQL with one and
// with two replicas); SSE latency and replay; scale. The PostgreSQL sections use the server at
// KHEISH_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), a fresh schema each. Writes
// bench/results/<date>-<commit>.json and prints a markdown table. Flags:
//   --quick            tiny sizes, a few hundred ms per benchmark (the smoke test uses it)
//   --only a,b         floor, langgraph, step, step_pg, history, throughput, throughput_pg, stream,
//                      scale, assets, ingress, deliveries, external, tracing, vacuum, memory,
//                      profile
//   --profile          also profile the daemon (node --cpu-prof) during the step benchmark
//   --out <dir>        where the JSON goes (default bench/results)
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runAssets } from './assets.ts';
import { runDeliveries } from './deliveries.ts';
import { runExternal } from './external.ts';
import type { FloorResult } from './floor.ts';
import { runHistory } from './history.ts';
import { runHttpFloor } from './http-floor.ts';
import { runIngress } from './ingress.ts';
import type { LangGraphResult } from './langgraph.ts';
import { runInChild } from './lib/child.ts';
import { ROOT } from './lib/daemon.ts';
import { commitId, machine } from './lib/report.ts';
import { round } from './lib/stats.ts';
import { runMemory } from './memory.ts';
import { runProfile } from './profile-run.ts';
import { runScale } from './scale.ts';
import { runStep } from './step.ts';
import { runStepPg } from './step-pg.ts';
import { runStream } from './stream.ts';
import { renderTable } from './table.ts';
import { runThroughput } from './throughput.ts';
import { runThroughputPg } from './throughput-pg.ts';
import { runTracing } from './tracing.ts';
import { runVacuum } from './vacuum.ts';

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});

const quick = flags.quick!;
const only = flags.only?.split(',').map((s) => s.trim());
const wanted = (name: string) => (only ? only.includes(name) : name !== 'profile' || flags.profile);

const SIZES = quick
  ? {
      floor: { commits: 300, budgetMs: 300 },
      floorNormal: { commits: 1000, budgetMs: 150 },
      lg: { steps: 3, runs: 10, warmup: 2, budgetMs: 400 },
      step: { steps: 3, runs: 10, warmup: 2, budgetMs: 500 },
      // Each PostgreSQL level also waits STATS_SETTLE_MS (11 s) for the server's statistics: one level.
      stepPg: {
        steps: 3,
        runs: 10,
        warmup: 2,
        budgetMs: 500,
        countRuns: 3,
        floor: { commits: 300, budgetMs: 300 },
      },
      tputPg: { levels: [10], windowMs: 300, maxRunsPerLevel: 200, warmupMs: 0 },
      history: { steps: 20, historyRuns: 100, reps: 3, warmup: 1, budgetMs: 3000 },
      tput: { levels: [1, 10], windowMs: 300, maxRunsPerLevel: 200, warmupMs: 0 },
      httpFloor: { levels: [10], windowMs: 300, maxRunsPerLevel: 200, warmupMs: 0 },
      tputNormal: { levels: [10], windowMs: 300, maxRunsPerLevel: 200, warmupMs: 0 },
      stream: {
        subscribers: [1, 10],
        windowMs: 300,
        maxRuns: 20,
        replayEvents: 2000,
        replayTimeoutMs: 10_000,
      },
      scale: {
        sessions: 100,
        runsPerSession: 5,
        stepsPerRun: 2,
        restarts: 1,
        touchSessions: 20,
        createSessions: 20,
      },
      profile: { steps: 3, runs: 10, warmup: 2, budgetMs: 500, countRuns: 3 },
      assets: { sizesMiB: [1], reps: 3, budgetMs: 3000 },
      vacuum: { runs: 100, sessions: 4 },
      ingress: { samples: 10, concurrency: 4, windowMs: 300, endToEnd: 3, budgetMs: 3000 },
      deliveries: { runs: 10, sessions: 2, budgetMs: 3000 },
      external: { events: 3, budgetMs: 3000, concurrency: 2, windowMs: 300 },
      tracing: { steps: 3, runs: 5, warmup: 1, budgetMs: 3000 },
    }
  : {
      floor: { commits: 3000, budgetMs: 5000 },
      floorNormal: { commits: 20_000, budgetMs: 3000 },
      lg: { steps: 9, runs: 200, warmup: 30, budgetMs: 40_000 },
      step: { steps: 9, runs: 200, warmup: 30, budgetMs: 40_000 },
      stepPg: {
        steps: 9,
        runs: 200,
        warmup: 30,
        budgetMs: 40_000,
        countRuns: 10,
        floor: { commits: 3000, budgetMs: 5000 },
      },
      tputPg: { levels: [1, 10, 100, 1000], windowMs: 5000, maxRunsPerLevel: 50_000, warmupMs: 1000 },
      history: { steps: 20, historyRuns: 1500, reps: 30, warmup: 3, budgetMs: 120_000 },
      tput: { levels: [1, 10, 100, 1000], windowMs: 5000, maxRunsPerLevel: 50_000, warmupMs: 1000 },
      httpFloor: { levels: [100], windowMs: 5000, maxRunsPerLevel: 50_000, warmupMs: 1000 },
      tputNormal: { levels: [1, 10, 100, 1000], windowMs: 5000, maxRunsPerLevel: 50_000, warmupMs: 1000 },
      stream: {
        subscribers: [1, 100, 1000],
        windowMs: 5000,
        maxRuns: 2000,
        replayEvents: 100_000,
        replayTimeoutMs: 120_000,
      },
      scale: {
        sessions: 10_000,
        runsPerSession: 10,
        stepsPerRun: 4,
        restarts: 3,
        touchSessions: 2000,
        createSessions: 1000,
      },
      profile: { steps: 9, runs: 300, warmup: 30, budgetMs: 60_000, countRuns: 20 },
      assets: { sizesMiB: [1, 8], reps: 30, budgetMs: 60_000 },
      vacuum: { runs: 2000, sessions: 20 },
      ingress: { samples: 300, concurrency: 16, windowMs: 5000, endToEnd: 50, budgetMs: 60_000 },
      deliveries: { runs: 200, sessions: 8, budgetMs: 60_000 },
      external: { events: 100, budgetMs: 60_000, concurrency: 8, windowMs: 5000 },
      tracing: { steps: 9, runs: 100, warmup: 10, budgetMs: 60_000 },
    };

async function main(): Promise<void> {
  const started = new Date();
  const meta = {
    date: started.toISOString(),
    commit: commitId(),
    mode: quick ? 'quick' : 'full',
    machine: machine(),
  };
  const results: Record<string, unknown> = {};
  const seconds: Record<string, number> = {};
  const failed: string[] = [];
  // A benchmark that throws is recorded as such; the others still run and the file is written.
  const step = async (name: string, fn: () => Promise<unknown>) => {
    if (!wanted(name)) return;
    process.stderr.write(`[bench] ${name} …\n`);
    const t0 = performance.now();
    try {
      results[name] = await fn();
    } catch (err) {
      failed.push(name);
      results[name] = { error: String((err as Error).stack ?? err) };
      process.stderr.write(`[bench] ${name} failed: ${(err as Error).stack ?? err}\n`);
    }
    seconds[name] = round((performance.now() - t0) / 1000, 2);
  };

  // The three step-cost figures are taken back to back, FULL first, so they see the same machine.
  await step('floor', async () => ({
    full: await runInChild<FloorResult>('floor', { sync: 'FULL', ...SIZES.floor }),
    normal: await runInChild<FloorResult>('floor', { sync: 'NORMAL', ...SIZES.floorNormal }),
  }));
  await step('langgraph', async () => ({
    full: await runInChild<LangGraphResult>('langgraph', { sync: 'FULL', ...SIZES.lg }),
    ...(quick
      ? {}
      : { normal: await runInChild<LangGraphResult>('langgraph', { sync: 'NORMAL', ...SIZES.lg }) }),
  }));
  await step('step', async () => ({
    full: await runStep({ sync: 'FULL', ...SIZES.step }),
    ...(quick ? {} : { normal: await runStep({ sync: 'NORMAL', ...SIZES.step }) }),
  }));
  await step('step_pg', () => runStepPg(SIZES.stepPg));
  await step('history', () => runHistory({ sync: 'FULL', ...SIZES.history }));
  // The HTTP floor first, then the daemon at the same concurrency, so the ratio sees one machine.
  await step('throughput', async () => ({
    http_floor: await runHttpFloor({ sync: 'FULL', ...SIZES.httpFloor }),
    full: await runThroughput({ sync: 'FULL', ...SIZES.tput }),
    normal: await runThroughput({ sync: 'NORMAL', ...SIZES.tputNormal }),
  }));
  // SQLite, then PostgreSQL with one and with two replicas, with the same client and levels.
  await step('throughput_pg', () => runThroughputPg(SIZES.tputPg));
  await step('stream', () => runStream(SIZES.stream));
  await step('scale', () => runScale(SIZES.scale));
  await step('assets', () => runAssets(SIZES.assets));
  await step('ingress', () => runIngress(SIZES.ingress));
  await step('deliveries', () => runDeliveries(SIZES.deliveries));
  await step('external', () => runExternal(SIZES.external));
  await step('tracing', () => runTracing(SIZES.tracing));
  await step('vacuum', () => runVacuum(SIZES.vacuum));
  // A fixed corpus: the same size in quick and full runs (a quality figure, not a timing).
  await step('memory', () => runMemory());
  await step('profile', () => runProfile(SIZES.profile));

  const doc = {
    ...meta,
    load_avg_1m_at_end: Number(loadavg()[0]!.toFixed(2)),
    seconds,
    results,
  };
  const dir = flags.out ?? join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${started.toISOString().slice(0, 10)}-${meta.commit}${quick ? '-quick' : ''}.json`);
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
  process.stdout.write(`${renderTable(doc)}\n\nresults: ${file}\n`);
  if (failed.length) {
    process.stderr.write(`[bench] failed: ${failed.join(', ')}\n`);
    process.exitCode = 1;
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
