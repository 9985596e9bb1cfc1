// Small statistics helpers shared by the benchmarks. Percentiles use the nearest-rank method on a
// sorted copy, so p99 of fewer than 100 samples is simply the largest one.

export interface Summary {
  n: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  min: number;
  max: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((a, b) => a + b, 0) / (sorted.length || 1);
  return {
    n: sorted.length,
    mean: round(mean),
    p50: round(percentile(sorted, 50)),
    p90: round(percentile(sorted, 90)),
    p99: round(percentile(sorted, 99)),
    min: round(sorted[0] ?? Number.NaN),
    max: round(sorted.at(-1) ?? Number.NaN),
  };
}

export const median = (samples: readonly number[]): number =>
  percentile(
    [...samples].sort((a, b) => a - b),
    50,
  );

/** Rounds to 4 significant decimals: enough for ms figures, short in JSON. */
export function round(x: number, digits = 4): number {
  if (!Number.isFinite(x)) return x;
  return Number(x.toFixed(digits));
}

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes. */
export const wallMs = (): number => performance.timeOrigin + performance.now();

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A deadline helper: every benchmark loop is bounded in count and in time. */
export class Budget {
  private readonly end: number;
  constructor(ms: number) {
    this.end = performance.now() + ms;
  }
  get expired(): boolean {
    return performance.now() >= this.end;
  }
  get leftMs(): number {
    return Math.max(0, this.end - performance.now());
  }
}
