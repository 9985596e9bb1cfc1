// The retry policy of the delivery queue (api-collab §8), from KHEISH_DELIVERY_* at start-up.
// Defaults (docs/decisions.md #281): first retry after 1 s, doubling to at most 5 min, a
// downstream Retry-After capped at 1 h (the external protocol page's cap), 8 attempts in all.
import { retryAfterMs } from '../../errors/retry-after.ts';

export interface DeliverySettings {
  initialRetryMs: number;
  maxRetryMs: number;
  maxRetryAfterMs: number;
  maxAttempts: number;
  /** Bound of one attempt (the plugin's request); the claim lease outlives it. */
  attemptTimeoutMs: number;
}

export const DELIVERY_DEFAULTS: DeliverySettings = {
  initialRetryMs: 1_000,
  maxRetryMs: 300_000,
  maxRetryAfterMs: 3_600_000,
  maxAttempts: 8,
  attemptTimeoutMs: 30_000,
};

const VARS: Array<[keyof DeliverySettings, string, number]> = [
  ['initialRetryMs', 'KHEISH_DELIVERY_INITIAL_RETRY_MS', 0],
  ['maxRetryMs', 'KHEISH_DELIVERY_MAX_RETRY_MS', 0],
  ['maxRetryAfterMs', 'KHEISH_DELIVERY_MAX_RETRY_AFTER_MS', 0],
  ['maxAttempts', 'KHEISH_DELIVERY_MAX_ATTEMPTS', 1],
  ['attemptTimeoutMs', 'KHEISH_DELIVERY_ATTEMPT_TIMEOUT_MS', 1],
];

/** Reads the environment; a value that is not a whole number in range stops the start with its name. */
export function deliverySettings(env: NodeJS.ProcessEnv = process.env): DeliverySettings {
  const out = { ...DELIVERY_DEFAULTS };
  for (const [key, name, min] of VARS) {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') continue;
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < min)
      throw new Error(`${name} must be a whole number of at least ${min}, not ${JSON.stringify(raw)}`);
    out[key] = n;
  }
  if (out.maxRetryMs < out.initialRetryMs) out.maxRetryMs = out.initialRetryMs;
  return out;
}

/**
 * The wait before attempt `attempts + 1`: the target's Retry-After (capped) when it gave one,
 * else exponential backoff from the initial delay, capped.
 */
export function retryDelay(s: DeliverySettings, attempts: number, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined && retryAfterMs >= 0) return Math.min(retryAfterMs, s.maxRetryAfterMs);
  const exp = s.initialRetryMs * 2 ** Math.max(0, attempts - 1);
  return Math.min(exp, s.maxRetryMs);
}

/** A Retry-After header (delay-seconds or an HTTP-date) in ms; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, nowMs: number = Date.now()): number | undefined {
  return retryAfterMs(value, nowMs) ?? undefined;
}
