// `Retry-After` as platforms send it: delay seconds or an HTTP date (RFC 9110 §10.2.3).

/** Milliseconds to wait, or null when the header is absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | null {
  if (value === null || value === undefined) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now);
}

/** Platform back-off is honoured up to this bound (a misbehaving server cannot park us for days). */
export const MAX_PLATFORM_RETRY_AFTER_MS = 15 * 60_000;

export const capRetryAfter = (ms: number): number => Math.min(Math.max(0, ms), MAX_PLATFORM_RETRY_AFTER_MS);
