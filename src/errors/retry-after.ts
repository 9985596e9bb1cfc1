// `Retry-After` as servers send it (RFC 9110 §10.2.3): delay-seconds or an HTTP date. One reading
// for every place that honours it: provider calls, delivery plugins, chat platforms, sidecars.
// Callers apply their own caps.

/** Milliseconds to wait, or null when the value is absent, negative or unreadable. */
export function retryAfterMs(value: string | null | undefined, now: number = Date.now()): number | null {
  if (value === null || value === undefined) return null;
  const v = value.trim();
  if (v === '') return null;
  // A number is delay-seconds (fractions accepted); a negative one is garbage, not a date.
  if (/^[+-]?\d+(\.\d+)?$/.test(v)) {
    const seconds = Number(v);
    return seconds >= 0 ? Math.ceil(seconds * 1000) : null;
  }
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now);
}
