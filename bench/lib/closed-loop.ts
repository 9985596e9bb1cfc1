// The client pattern of the throughput figures: `workers` clients, each keeps one operation in
// flight (start the next when the previous one is done) until the window ends or `maxOps` were
// started, then finishes what it has. Throughput is every completed operation over first start →
// last completion, so a drain that outlasts the window is counted, not cut off. The daemon's
// throughput (bench/throughput.ts) and its HTTP floor (bench/http-floor.ts) both use it, so their
// figures compare like with like.
import { round, type Summary, sleep, summarize, wallMs } from './stats.ts';

/** One operation's outcome: when it completed (wall ms), or why it did not. */
export type OpOutcome = { at: number } | { error: string };

export interface LoopResult {
  started: number;
  completed: number;
  errors: number;
  error_samples?: string[];
  window_s: number;
  per_s: number;
  latency_ms: Summary;
}

export async function closedLoop(
  workers: number,
  windowMs: number,
  maxOps: number,
  op: (worker: number, startedAt: number) => Promise<OpOutcome>,
): Promise<LoopResult> {
  const latencies: number[] = [];
  const errorSamples: string[] = [];
  let started = 0;
  let errors = 0;
  let lastAt = 0;
  const startWall = wallMs();
  const endWall = startWall + windowMs;
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      while (wallMs() < endWall && started < maxOps) {
        started++;
        const start = wallMs();
        const out = await op(worker, start);
        if ('error' in out) {
          // Counted and reported, not fatal: the figure says how many operations failed.
          errors++;
          if (errorSamples.length < 3) errorSamples.push(out.error.slice(0, 200));
          await sleep(5);
          continue;
        }
        latencies.push(out.at - start);
        lastAt = Math.max(lastAt, out.at);
      }
    }),
  );
  const elapsedS = (lastAt - startWall) / 1000;
  return {
    started,
    completed: latencies.length,
    errors,
    ...(errorSamples.length ? { error_samples: errorSamples } : {}),
    window_s: round(elapsedS, 3),
    per_s: round(latencies.length / elapsedS, 1),
    latency_ms: summarize(latencies),
  };
}
