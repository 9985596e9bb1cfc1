// What OpenTelemetry tracing costs a durable step (docs/tracing.md). Three daemons run side by
// side from this one bench process, their runs interleaved one for one so that machine drift
// hits all three alike: `baseline` has no OTEL_* variable at all; `off` has an OTLP endpoint
// configured but OTEL_TRACES_EXPORTER=none (the switch an operator flips; the SDK is not
// loaded); `on` exports every span over OTLP/HTTP (protobuf, the default protocol) to a sink in
// this process. A step is the scripted tool-call turn of bench/step.ts, measured the same way:
// (wall of a `steps`-step run − median wall of a 0-step run) / steps. Ratios are to `baseline`.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type BenchDaemon, removeDir, startBenchDaemon, tempDir, writeScriptedRoutes } from './lib/daemon.ts';
import { Budget, median, round, type Summary, summarize } from './lib/stats.ts';
import { stepScript, timedInput, warmSteps } from './step.ts';

export interface TracingOptions {
  steps: number;
  runs: number;
  warmup: number;
  budgetMs: number;
}

const MODES = ['baseline', 'off', 'on'] as const;
type Mode = (typeof MODES)[number];

export interface TracingResult {
  steps_per_run: number;
  runs: number;
  step_ms: Record<Mode, Summary>;
  /** Median step cost of `off` and `on` over `baseline`'s. */
  ratio: { off: number; on: number };
  /** What the sink received from `on` (proof that it traced): requests and bytes. */
  otlp: { requests: number; bytes: number };
}

export async function runTracing(opts: TracingOptions): Promise<TracingResult> {
  let requests = 0;
  let bytes = 0;
  const sink = createServer((req, res) => {
    req.on('data', (c: Buffer) => {
      bytes += c.length;
    });
    req.on('end', () => {
      requests++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
  // This process's own OTEL_* variables must not reach the daemons.
  const clear = Object.fromEntries(
    Object.keys(process.env)
      .filter((k) => k.startsWith('OTEL_'))
      .map((k) => [k, '']),
  );
  const envs: Record<Mode, Record<string, string>> = {
    baseline: clear,
    off: { ...clear, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_TRACES_EXPORTER: 'none' },
    on: { ...clear, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_BSP_SCHEDULE_DELAY: '200' },
  };
  const dirs: string[] = [];
  const daemons = {} as Record<Mode, BenchDaemon>;
  const full: Record<Mode, number[]> = { baseline: [], off: [], on: [] };
  const zero: Record<Mode, number[]> = { baseline: [], off: [], on: [] };
  try {
    for (const mode of MODES) {
      const dir = tempDir(`kheish-bench-tracing-${mode}-`);
      dirs.push(dir);
      daemons[mode] = await startBenchDaemon({
        stateRoot: `${dir}/state`,
        routesFile: writeScriptedRoutes(dir, stepScript(opts.steps)),
        env: envs[mode],
      });
      await warmSteps(daemons[mode], opts.warmup);
    }
    const budget = new Budget(opts.budgetMs);
    for (let round = 0; full.on.length < opts.runs && !budget.expired; round++) {
      // The order turns each round: no mode always runs right after another's (its GC, its fsync).
      const order = MODES.map((_, i) => MODES[(i + round) % MODES.length]!);
      for (const mode of order) {
        full[mode].push((await timedInput(daemons[mode], 'steps')).ms);
        zero[mode].push((await timedInput(daemons[mode], 'zero')).ms);
      }
    }
  } finally {
    // A clean stop flushes the `on` daemon's last batch into the sink before it is counted.
    for (const mode of MODES) await daemons[mode]?.stop();
    for (const dir of dirs) removeDir(dir);
    await new Promise<void>((r) => sink.close(() => r()));
  }
  const step = {} as Record<Mode, Summary>;
  for (const mode of MODES) {
    const z = median(zero[mode]);
    step[mode] = summarize(full[mode].map((ms) => (ms - z) / opts.steps));
  }
  return {
    steps_per_run: opts.steps,
    runs: full.on.length,
    step_ms: step,
    ratio: {
      off: round(step.off.p50 / step.baseline.p50, 3),
      on: round(step.on.p50 / step.baseline.p50, 3),
    },
    otlp: { requests, bytes },
  };
}
