// `Retry-After` as platforms send it: delay seconds or an HTTP date (RFC 9110 §10.2.3).

import { retryAfterMs } from '../../../errors/retry-after.ts';

/** Milliseconds to wait, or null when the header is absent or unreadable. */
export const parseRetryAfter = retryAfterMs;

/** Platform back-off is honoured up to this bound (a misbehaving server cannot park us for days). */
export const MAX_PLATFORM_RETRY_AFTER_MS = 15 * 60_000;

export const capRetryAfter = (ms: number): number => Math.min(Math.max(0, ms), MAX_PLATFORM_RETRY_AFTER_MS);
