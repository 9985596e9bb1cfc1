// The process-wide tracing facade. With tracing off (the default) nothing here touches an
// OpenTelemetry package: every call is a null check and the callback runs as it is. With tracing
// on, `startTracing` loads the SDK (./sdk.ts, a dynamic import) and the calls go to it.
import { type TracingDecision, type TracingSettings, tracingFromEnv } from './env.ts';
import type { SpanRef } from './trace-context.ts';

export type AttrValue = string | number | boolean | string[];
export type Attrs = Record<string, AttrValue | undefined>;

export interface SpanSpec {
  name: string;
  kind?: 'internal' | 'client' | 'server' | 'producer' | 'consumer';
  attributes?: Attrs;
  /** Parent to use instead of the active context (a run's root, for work outside its executor). */
  parent?: SpanRef;
  /** Start time (epoch ms) when the span began before it was opened (a run's root). */
  startTimeMs?: number;
  /** Forced ids: a run's root span is exported under the ids its children already name. */
  ids?: { traceId: string; spanId: string };
}

export interface SpanHandle {
  set(attrs: Attrs): void;
  /** Error status; `type` goes to the `error.type` attribute. */
  fail(type: string, message?: string): void;
  end(endTimeMs?: number): void;
  /** Runs `fn` with this span active (outgoing `traceparent` headers then name it). */
  run<T>(fn: () => T): T;
}

/** What the SDK module implements (./sdk.ts). */
export interface TracingRuntime {
  readonly settings: TracingSettings;
  start(spec: SpanSpec): SpanHandle;
  /** Runs `fn` with the span active (children and outgoing `traceparent` headers see it). */
  withSpan<T>(spec: SpanSpec, fn: (span: SpanHandle) => Promise<T>): Promise<T>;
  /** Runs `fn` with `parent` as the active (remote) span context. */
  withParent<T>(parent: SpanRef, fn: () => T): T;
  /** The active span as a `traceparent` value, or null outside any span. */
  traceparent(): string | null;
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** What every span call gets while tracing is off. */
export const NOOP_SPAN: SpanHandle = { set() {}, fail() {}, end() {}, run: (fn) => fn() };

let runtime: TracingRuntime | null = null;
let decision: TracingDecision | null = null;

export const tracingOn = (): boolean => runtime !== null;

export function startSpan(spec: SpanSpec): SpanHandle {
  return runtime ? runtime.start(spec) : NOOP_SPAN;
}

export function withSpan<T>(spec: SpanSpec, fn: (span: SpanHandle) => Promise<T>): Promise<T> {
  return runtime ? runtime.withSpan(spec, fn) : fn(NOOP_SPAN);
}

export function withParent<T>(parent: SpanRef | null, fn: () => T): T {
  return runtime && parent ? runtime.withParent(parent, fn) : fn();
}

/** The `traceparent` to send with an outgoing request made in the active context, if any. */
export function outgoingTraceparent(): string | null {
  return runtime ? runtime.traceparent() : null;
}

/** `headers` plus the active context's `traceparent` (the same object while tracing is off). */
export function withTraceparent(headers: Record<string, string> = {}): Record<string, string> {
  const traceparent = outgoingTraceparent();
  return traceparent ? { ...headers, traceparent } : headers;
}

/**
 * Reads the OTEL_* variables and, when they ask for traces, loads the SDK. Returns the warnings
 * to log. Idempotent per process: a second daemon in the same process shares the first's runtime.
 */
export async function startTracing(env: Record<string, string | undefined>): Promise<string[]> {
  if (decision) return [];
  decision = tracingFromEnv(env);
  if (!decision.enabled) return decision.warnings;
  const { createRuntime } = await import('./sdk.ts');
  runtime = await createRuntime(decision.settings);
  return decision.warnings;
}

/** Tests: a runtime built around an exporter of their own (an in-memory one). */
export function installTracing(r: TracingRuntime | null): void {
  runtime = r;
  decision = r ? { enabled: true, settings: r.settings, warnings: [] } : null;
}

/** Flushes and stops the exporter (at daemon shutdown). */
export async function stopTracing(): Promise<void> {
  const r = runtime;
  runtime = null;
  decision = null;
  await r?.shutdown().catch(() => undefined);
}

/** For GET /v1/status: whether spans are exported, and how. */
export function tracingStatus(): Record<string, unknown> {
  if (runtime)
    return { enabled: true, exporter: runtime.settings.exporter, protocol: runtime.settings.protocol };
  return { enabled: false, reason: decision && !decision.enabled ? decision.reason : 'not started' };
}
