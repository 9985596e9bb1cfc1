// W3C trace context (https://www.w3.org/TR/trace-context/) without the OpenTelemetry packages:
// the submit path parses `traceparent` and the engine derives a run's ids whether or not
// tracing is on, so none of this may load the SDK.
import { createHash } from 'node:crypto';

export interface SpanRef {
  /** 32 lowercase hex digits. */
  traceId: string;
  /** 16 lowercase hex digits. */
  spanId: string;
  sampled: boolean;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/**
 * A valid `traceparent` header value, or null. Version 00 has exactly four fields; a later
 * version may add fields (read the first four, as the spec asks); version ff and all-zero ids
 * are invalid.
 */
export function parseTraceparent(value: string | string[] | undefined | null): SpanRef | null {
  const raw = Array.isArray(value) ? (value.length === 1 ? value[0] : undefined) : value;
  if (typeof raw !== 'string') return null;
  const m = TRACEPARENT.exec(raw.trim());
  if (!m) return null;
  const [, version, traceId, spanId, flags, rest] = m;
  if (version === 'ff' || (version === '00' && rest !== undefined)) return null;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return null;
  return { traceId: traceId!, spanId: spanId!, sampled: (Number.parseInt(flags!, 16) & 1) === 1 };
}

export function formatTraceparent(ref: SpanRef): string {
  return `00-${ref.traceId}-${ref.spanId}-${ref.sampled ? '01' : '00'}`;
}

const hex = (label: string, id: string, chars: number): string =>
  createHash('sha256').update(`kheish-otel-${label}\n${id}`).digest('hex').slice(0, chars);

/** A run's trace id when the submitter gave none: every replica derives the same one. */
export const runTraceId = (runId: string): string => hex('trace', runId, 32);

/** The span id of a run's root span, derived so any replica can parent spans under it. */
export const runSpanId = (runId: string): string => hex('run-span', runId, 16);
