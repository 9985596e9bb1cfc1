// Per-connector token buckets (api-collab §6.4 "Rate limiting"). A bucket holds one second of
// events (at least one) and refills continuously. Buckets live in each daemon process: on
// PostgreSQL every replica limits its own share (decision 270).

export const DEFAULT_EVENTS_PER_SECOND = 100;
/** Idle buckets are full again; past this many the oldest are forgotten (bounded memory). */
const MAX_BUCKETS = 10_000;

interface Bucket {
  tokens: number;
  at: number;
}

export class IngressRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly now: () => number;
  constructor(now: () => number = () => performance.now()) {
    this.now = now;
  }

  /** Takes a token; the wait until the next one when the bucket is empty. */
  take(key: string, perSecond: number): { ok: true } | { ok: false; retry_after_ms: number } {
    const rate = perSecond > 0 ? perSecond : DEFAULT_EVENTS_PER_SECOND;
    const capacity = Math.max(1, rate);
    const t = this.now();
    const b = this.buckets.get(key) ?? { tokens: capacity, at: t };
    b.tokens = Math.min(capacity, b.tokens + ((t - b.at) / 1000) * rate);
    b.at = t;
    this.buckets.delete(key);
    this.buckets.set(key, b);
    if (this.buckets.size > MAX_BUCKETS) this.buckets.delete(this.buckets.keys().next().value!);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retry_after_ms: Math.max(1, Math.ceil(((1 - b.tokens) / rate) * 1000)) };
  }

  /** Forgets a connector's buckets (its rate changed or it was deleted). */
  reset(prefix: string): void {
    for (const k of this.buckets.keys()) if (k.startsWith(prefix)) this.buckets.delete(k);
  }
}
