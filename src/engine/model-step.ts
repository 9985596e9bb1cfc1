// One model call with the route's resilience rules: per-call timeout, retries with exponential
// backoff and jitter (honouring Retry-After), then the route's fallback_routes in order. Every
// failed attempt, retry and fallback is journaled and published as a durable `trace` event; the
// start of each call is a live-only `model_turn_started` trace (docs/events.md).
import { ModelCallError, type ModelRequest, type ModelResponse } from '../models/driver.ts';
import { addUsage, emptyUsage } from './budgets.ts';
import type { ActionInput } from './external-actions.ts';
import { needsRendering } from './input-assets.ts';
import type { ModelPort } from './ports.ts';
import { type ProviderAction, providerAction, providerFailed, providerSucceeded } from './provider-audit.ts';
import { RunStopped, whileRunning } from './run-guard.ts';
import type { RunState } from './run-state.ts';
import { modelCallDone, modelCallFailed, modelCallSpan } from './telemetry.ts';
import { maskSecrets } from './trace-redact.ts';
import { appendTraces, publishLiveTrace, type Trace } from './traces.ts';
import { addRunUsage } from './usage.ts';

export type StepOutcome =
  | {
      kind: 'response';
      response: ModelResponse;
      route_id: string;
      model: string;
      /** When the call began and how long it took (the model_turn_finished trace). */
      started_at_ms: number;
      duration_ms: number;
      /** The signed audit record of this request: it commits with the step that records the turn. */
      audit: ActionInput;
    }
  | { kind: 'retry' }
  | { kind: 'failed'; code: string; message: string };

const MAX_BACKOFF_MS = 8_000;
const MAX_RETRY_AFTER_MS = 60_000;

export function backoffMs(failures: number, retryAfterMs: number | null): number {
  if (retryAfterMs !== null) return Math.min(retryAfterMs, MAX_RETRY_AFTER_MS);
  const base = Math.min(MAX_BACKOFF_MS, 250 * 2 ** failures);
  return Math.round(base / 2 + Math.random() * (base / 2));
}

export const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });

class CallDeadline extends Error {}

export async function modelStep(
  engine: ModelPort,
  state: RunState,
  req: Omit<ModelRequest, 'model' | 'signal' | 'call_index' | 'run_id'>,
  signal: AbortSignal,
  wallTimeLeftMs: number | null,
): Promise<StepOutcome> {
  const { run, pos } = state;
  // Fail closed: no request leaves while the external-action audit cannot sign (the run fails).
  engine.opts.audit.require();
  const current = pos.route ?? { route_id: run.route_id, model: run.model };
  const route = engine.routes.get(current.route_id);
  const driver = engine.routes.driverFor(current.route_id);
  // No provider call without a live lease: scope, revoked subject/slot/lease fail the run typed.
  const refusal = (await engine.credentialGate?.authorizeRoute(run, current.route_id)) ?? null;
  if (refusal) return { kind: 'failed', ...refusal };
  // Files are encoded for the route in use now (a fallback route may take them differently); the
  // audit digest covers the asset ids, not the bytes.
  let messages = req.messages;
  if (route && engine.inputAssets && needsRendering(messages)) {
    try {
      messages = await engine.inputAssets.render(messages, route.config, signal);
    } catch (err) {
      if (signal.aborted) throw err;
      const e = err as { code?: string; message?: string };
      return {
        kind: 'failed',
        code: e.code ?? 'asset_unavailable',
        message: `input asset unavailable: ${e.message ?? String(err)}`,
      };
    }
  }
  const deadlines: Array<{ signal: AbortSignal; clear(): void }> = [];
  if (route?.config.timeout_ms) deadlines.push(deadline(route.config.timeout_ms, 'route timeout'));
  if (wallTimeLeftMs !== null) deadlines.push(deadline(wallTimeLeftMs, 'wall time'));
  const callSignal =
    deadlines.length === 0 ? signal : AbortSignal.any([signal, ...deadlines.map((d) => d.signal)]);
  let error: ModelCallError;
  let action: ProviderAction | undefined;
  const startedAt = Date.now();
  // Live only: a durable start would cost a commit before every model call (docs/decisions.md).
  publishLiveTrace(engine.events, run, {
    kind: 'model_turn_started',
    route_id: current.route_id,
    model: current.model,
    call_index: pos.calls,
    purpose: req.purpose ?? 'turn',
    attempt: pos.consecutiveFailures + 1,
    started_at_ms: startedAt,
  });
  // The debug level in force now applies to this call (null when capture is off: nothing more runs).
  const debug = engine.debugCapture?.begin(run, state.entries, current) ?? null;
  // One span per attempt: a retried call shows as a failed span and the next one (docs/tracing.md).
  const span = modelCallSpan({
    driver: route?.config.driver,
    ...current,
    call_index: pos.calls,
    attempt: pos.consecutiveFailures + 1,
    purpose: req.purpose ?? 'turn',
    temperature: req.generation?.temperature,
    max_output_tokens: req.generation?.max_output_tokens,
  });
  try {
    const call = {
      ...req,
      run_id: run.run_id,
      model: current.model,
      call_index: pos.routeCalls,
      signal: callSignal,
    };
    action = providerAction({ ...run, route_id: current.route_id }, call);
    const sent = messages === req.messages ? call : { ...call, messages };
    // Active while the driver runs: a provider request names this span in its `traceparent`.
    const response = await span.run(() => (debug ? debug.call(driver, sent) : driver.call(sent)));
    if (signal.aborted) throw signal.reason;
    modelCallDone(span, response);
    return {
      kind: 'response',
      response,
      ...current,
      started_at_ms: startedAt,
      duration_ms: Date.now() - startedAt,
      audit: providerSucceeded(action, response),
    };
  } catch (err) {
    modelCallFailed(span, err, engine.secretValues());
    if (signal.aborted || err instanceof RunStopped) throw err;
    const reason = callSignal.aborted ? callSignal.reason : null;
    if (reason instanceof CallDeadline && reason.message === 'wall time') {
      return {
        kind: 'failed',
        code: 'budget_exhausted',
        message: 'budget_exhausted: run wall_time (the model call outlived the run wall-time limit)',
      };
    }
    if (reason instanceof CallDeadline) {
      error = new ModelCallError(`model call timed out after ${route?.config.timeout_ms} ms`, {
        status: null,
        retryable: true,
      });
    } else if (err instanceof ModelCallError)
      // A provider may quote the key it refused: the message is journaled, traced and shown.
      error = new ModelCallError(maskSecrets(err.message, engine.secretValues()), {
        status: err.status,
        retryable: err.retryable,
        retryAfterMs: err.retryAfterMs,
      });
    else throw err;
  } finally {
    for (const d of deadlines) d.clear();
  }

  const failures = pos.consecutiveFailures + 1;
  const maxRetries = route?.config.max_retries ?? 3;
  const chain = [run.route_id, ...(engine.routes.get(run.route_id)?.config.fallback_routes ?? [])];
  const next = chain[chain.indexOf(current.route_id) + 1];
  const decision =
    error.retryable && failures <= maxRetries ? 'retry' : next !== undefined ? 'fallback' : 'fail';
  const delayMs = decision === 'retry' ? backoffMs(pos.consecutiveFailures, error.retryAfterMs) : 0;
  await whileRunning(engine, run.run_id, async (tx, row) => {
    if (action) await engine.opts.audit.append(tx.db, providerFailed(action, error), tx.now);
    await state.journal(tx, [
      {
        kind: 'model_call_failed',
        payload: {
          status: error.status,
          message: error.message,
          call_index: pos.calls,
          route_id: current.route_id,
        },
      },
    ]);
    const failed: Trace = {
      kind: decision === 'retry' ? 'model_retry' : 'model_error',
      route_id: current.route_id,
      model: current.model,
      call_index: pos.calls,
      status: error.status,
      message: error.message,
      attempt: failures,
      retryable: error.retryable,
      started_at_ms: startedAt,
      duration_ms: Date.now() - startedAt,
    };
    if (decision === 'retry') failed.delay_ms = delayMs;
    const traces: Trace[] = [failed];
    if (decision === 'fallback') {
      const model = engine.routes.get(next!)?.config.default_model ?? current.model;
      await state.journal(tx, [
        {
          kind: 'route_switched',
          payload: { route_id: next, model, from_route_id: current.route_id, reason: error.message },
        },
      ]);
      traces.push({
        kind: 'route_fallback',
        from_route_id: current.route_id,
        from_model: current.model,
        route_id: next!,
        model,
        reason: error.message,
      });
    }
    state.committed(tx, await addRunUsage(tx, row, addUsage(emptyUsage(), { model_calls: 1 })));
    await appendTraces(engine.events, tx, run, traces);
  });
  if (decision === 'fail') {
    const why = error.retryable ? `after ${failures} attempts` : '(not retryable)';
    return {
      kind: 'failed',
      code: 'model_call_failed',
      message: `model call failed ${why}: ${error.message}`,
    };
  }
  if (decision === 'retry') await sleep(delayMs, signal);
  return { kind: 'retry' };
}

function deadline(ms: number, what: string): { signal: AbortSignal; clear(): void } {
  const ac = new AbortController();
  const t = setTimeout(() => ac.abort(new CallDeadline(what)), ms);
  return { signal: ac.signal, clear: () => clearTimeout(t) };
}
