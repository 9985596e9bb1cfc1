// Sizes of the reliability harness. The CI short form is the default; `npm run soak` sets
// KHEISH_SOAK=1 for the long form. Each size can be overridden on its own.
const soak = process.env.KHEISH_SOAK === '1';

const num = (name: string, ci: number, long: number): number => {
  const v = process.env[name];
  return v !== undefined && v !== '' && Number.isFinite(Number(v)) ? Number(v) : soak ? long : ci;
};

export const SOAK = soak;
/** Crash loop: start → random work → SIGKILL → restart → invariants, this many times. */
export const CRASH_ITERATIONS = num('KHEISH_RELIABILITY_CRASH_ITERATIONS', 30, 500);
/** Independent daemons sharing the crash iterations (each keeps its state root across them). */
export const CRASH_LANES = num('KHEISH_RELIABILITY_CRASH_LANES', 2, 2);
/**
 * The crash loop's own timeout, sized from its length (a fixed 600 s cut the 500-iteration soak
 * short): a start-up allowance plus 24 s per iteration of a lane, about 4× what one took on the
 * loaded 2-core machine (95 s for 30 iterations over 2 lanes at load 4.6, i.e. 6.3 s each, with
 * the periodic full-history checks). 30 iterations over 2 lanes keep 600 s; the soak gets 1 h 44.
 */
const crashTimeout = 240_000 + Math.ceil(CRASH_ITERATIONS / Math.max(1, CRASH_LANES)) * 24_000;
export const CRASH_TIMEOUT_MS = num('KHEISH_RELIABILITY_CRASH_TIMEOUT_MS', crashTimeout, crashTimeout);
/** API fuzzing: requests in total. */
export const FUZZ_REQUESTS = num('KHEISH_RELIABILITY_FUZZ_REQUESTS', 5000, 50_000);
/** API fuzzing: wall-clock cap (the budget ends at whichever comes first). */
export const FUZZ_MAX_MS = num('KHEISH_RELIABILITY_FUZZ_MAX_MS', 60_000, 900_000);
/** Load and faults: concurrent sessions. */
export const LOAD_SESSIONS = num('KHEISH_RELIABILITY_LOAD_SESSIONS', 100, 1000);
/** Load and faults: runs per session. */
export const LOAD_RUNS_PER_SESSION = num('KHEISH_RELIABILITY_LOAD_RUNS', 3, 5);
/** The seed of the pseudo-random choices (printed on failure, so a failing loop can be replayed). */
export const SEED = num('KHEISH_RELIABILITY_SEED', Date.now() % 2 ** 31, Date.now() % 2 ** 31);

/** A small deterministic PRNG (mulberry32): the same seed gives the same workload. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
