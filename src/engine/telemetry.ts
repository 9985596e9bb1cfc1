// The engine's side of OpenTelemetry traces (docs/tracing.md): one trace per run, whose root span
// is exported when the run ends, and child spans for model calls (GenAI semantic conventions),
// tool calls, permission decisions, hooks and deliveries. A run outlives processes and moves
// between replicas, so nothing here is kept open across steps: the run's trace id and root span
// id are derived from the run (or from the submitter's `traceparent`, stored with the request),
// and every replica parents its spans under the same root. With tracing off every function is a
// null check (src/telemetry/tracing.ts).
import { ModelCallError, type ModelResponse, type ToolCall } from '../models/driver.ts';
import { getRun, type RunRow } from '../store/repos/runs.ts';
import type { Executor } from '../store/schema.ts';
import { parseTraceparent, runSpanId, runTraceId, type SpanRef } from '../telemetry/trace-context.ts';
import {
  NOOP_SPAN,
  type SpanHandle,
  startSpan,
  tracingOn,
  withParent,
  withSpan,
} from '../telemetry/tracing.ts';
import { maskSecrets } from './trace-redact.ts';
import type { StoredRunRequest } from './types.ts';

/** gen_ai.provider.name by routes-file driver (well-known values where the conventions have one). */
const PROVIDERS: Record<string, string> = {
  anthropic: 'anthropic',
  openai: 'openai',
  google: 'gcp.gemini',
  xai: 'x_ai',
  openrouter: 'openrouter',
  openai_compatible: 'openai_compatible',
  scripted: 'kheish.scripted',
};

interface RunTrace {
  /** The submitter's span (from `traceparent`), the parent of the run's root span. */
  upstream: SpanRef | null;
  /** The run's root span: the parent of everything the run does. */
  root: SpanRef;
}

const cache = new Map<string, RunTrace>();

function runTrace(run: Pick<RunRow, 'run_id' | 'request'>): RunTrace {
  const hit = cache.get(run.run_id);
  if (hit) return hit;
  const stored = (JSON.parse(run.request) as StoredRunRequest).trace_context;
  const upstream = parseTraceparent(stored);
  const root = {
    traceId: upstream?.traceId ?? runTraceId(run.run_id),
    spanId: runSpanId(run.run_id),
    sampled: upstream?.sampled ?? true,
  };
  // Bounded: an executor re-reads what it evicted (the derivation is pure).
  if (cache.size >= 1_000) cache.delete(cache.keys().next().value!);
  const t = { upstream, root };
  cache.set(run.run_id, t);
  return t;
}

/** Runs an executor with the run's root span as the active context. */
export function withRunContext<T>(run: RunRow, fn: () => T): T {
  return tracingOn() ? withParent(runTrace(run).root, fn) : fn();
}

/** Exports the run's root span, once the run is terminal (after its commit). */
export function endRunSpan(run: RunRow): void {
  if (!tracingOn()) return;
  const { upstream, root } = runTrace(run);
  cache.delete(run.run_id);
  const span = startSpan({
    name: `invoke_agent ${run.agent_id}`,
    kind: 'internal',
    ...(upstream ? { parent: upstream } : {}),
    ids: { traceId: root.traceId, spanId: root.spanId },
    startTimeMs: run.submitted_at_ms,
    attributes: {
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.id': run.agent_id,
      'gen_ai.conversation.id': run.session_id,
      'kheish.run.id': run.run_id,
      'kheish.run.kind': run.kind,
      'kheish.run.status': run.status,
      'kheish.route.id': run.route_id,
    },
  });
  if (run.status === 'failed') span.fail(run.error_code ?? 'run_failed', run.error ?? undefined);
  span.end(run.finished_at_ms ?? Date.now());
}

export interface ModelCallInfo {
  driver: string | undefined;
  route_id: string;
  model: string;
  call_index: number;
  attempt: number;
  purpose: string;
  temperature?: number;
  max_output_tokens?: number;
}

/** A model call's span (GenAI `chat`): ended by modelCallDone or modelCallFailed. */
export function modelCallSpan(info: ModelCallInfo): SpanHandle {
  if (!tracingOn()) return NOOP_SPAN;
  const provider = PROVIDERS[info.driver ?? ''] ?? info.driver ?? 'unknown';
  return startSpan({
    name: `chat ${info.model}`,
    kind: 'client',
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': provider,
      'gen_ai.system': provider,
      'gen_ai.request.model': info.model,
      'gen_ai.request.temperature': info.temperature,
      'gen_ai.request.max_tokens': info.max_output_tokens,
      'kheish.route.id': info.route_id,
      'kheish.model_call.index': info.call_index,
      'kheish.model_call.attempt': info.attempt,
      'kheish.model_call.purpose': info.purpose,
    },
  });
}

export function modelCallDone(span: SpanHandle, response: ModelResponse): void {
  span.set({
    'gen_ai.usage.input_tokens': response.usage.input_tokens,
    'gen_ai.usage.output_tokens': response.usage.output_tokens,
    'gen_ai.response.finish_reasons': [response.provider_stop_reason ?? response.stop_reason],
  });
  span.end();
}

/**
 * A failed attempt: `error.type` is the provider's HTTP status when there was one, else the
 * error's name. The message is masked like the journal's copy (a provider may quote the key).
 */
export function modelCallFailed(span: SpanHandle, err: unknown, secrets: readonly string[]): void {
  if (span === NOOP_SPAN) return;
  const status = err instanceof ModelCallError ? err.status : null;
  const e = err as Error | undefined;
  span.fail(status ? String(status) : (e?.name ?? 'Error'), maskSecrets(String(e?.message ?? err), secrets));
  span.end();
}

/** A tool call's span (GenAI `execute_tool`), active while the tool and its post hooks run. */
export function withToolSpan<R>(call: ToolCall, failed: (r: R) => boolean, fn: () => Promise<R>): Promise<R> {
  if (!tracingOn()) return fn();
  return withSpan(
    {
      name: `execute_tool ${call.name}`,
      attributes: {
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': call.name,
        'gen_ai.tool.call.id': call.id,
      },
    },
    async (span) => {
      const out = await fn();
      if (failed(out)) span.fail('tool_error');
      return out;
    },
  );
}

/** A permission decision: an instant span (the evaluation takes no time worth showing). */
export function permissionSpan(
  call: ToolCall,
  d: { decision: string; mode?: string; matched_rule?: string | null; reason?: string },
): void {
  if (!tracingOn()) return;
  const span = startSpan({
    name: `permission ${call.name}`,
    attributes: {
      'gen_ai.tool.name': call.name,
      'gen_ai.tool.call.id': call.id,
      'kheish.permission.decision': d.decision,
      'kheish.permission.mode': d.mode,
      'kheish.permission.rule': d.matched_rule ?? undefined,
    },
  });
  span.end();
}

/**
 * A delivery attempt's span, under the root of the run whose output it carries (the queue works
 * outside the run's executor, maybe on another replica, after the run ended).
 */
export async function withDeliverySpan<T>(
  db: Executor,
  d: { delivery_id: string; run_id: string; plugin: string; attempts: number },
  fn: (span: SpanHandle) => Promise<T>,
): Promise<T> {
  if (!tracingOn()) return fn(NOOP_SPAN);
  const run = await getRun(db, d.run_id);
  return withSpan(
    {
      name: `deliver ${d.plugin}`,
      kind: 'producer',
      ...(run ? { parent: runTrace(run).root } : {}),
      attributes: {
        'kheish.delivery.id': d.delivery_id,
        'kheish.delivery.plugin': d.plugin,
        'kheish.delivery.attempt': d.attempts,
        'kheish.run.id': d.run_id,
      },
    },
    fn,
  );
}

export function deliveryOutcome(span: SpanHandle, o: { status: string; error_code?: string }): void {
  span.set({ 'kheish.delivery.outcome': o.status });
  if (o.status !== 'delivered') span.fail(o.error_code ?? o.status);
}
