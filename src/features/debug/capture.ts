// The engine's debug capture port (engine/ports.ts DebugCapturePort): for each model call made
// while the level is not `off`, the artifacts `turn-NNNN-attempt-NNNN-model-request` (what the
// engine asked: messages, tools, generation options), `…-provider-request` and `…-provider-events`
// (the HTTP exchange of an AI SDK driver, through drivers/wire-capture.ts) and `…-model-response`
// (text, tool calls, usage, or the error). Writes go one after another on a per-call chain and the
// call returns once they are stored; a failed write is counted and logged, never thrown.
import type { Logger } from 'pino';
import type { DebugCapturePort, ModelCallRecorder } from '../../engine/ports.ts';
import {
  ModelCallError,
  type ModelDriver,
  type ModelRequest,
  type ModelResponse,
} from '../../models/driver.ts';
import { withWireCapture } from '../../models/drivers/wire-capture.ts';
import type { JournalEntry } from '../../store/repos/journal.ts';
import type { RunRow } from '../../store/repos/runs.ts';
import type { RedactTokens } from './config.ts';
import type { ArtifactFormat, DebugStore } from './debug-store.ts';
import { type CaptureLevel, type RenderContext, renderValue } from './render.ts';
import { WireLog } from './wire-log.ts';

export interface CaptureDeps {
  /** The level in force now (the runtime setting); undefined = off. */
  level(): string | undefined;
  store: DebugStore;
  secrets(): readonly string[];
  tokens: RedactTokens;
  log: Logger;
}

const pad = (n: number) => String(n).padStart(4, '0');

/** Turn = the run's answered model calls + 1; attempt = failures since the last answer + 1. */
export function callPosition(journal: readonly JournalEntry[]): { turn: number; attempt: number } {
  let turns = 0;
  let failures = 0;
  for (const e of journal) {
    if (e.kind === 'assistant_message') {
      turns++;
      failures = 0;
    } else if (e.kind === 'model_call_failed') failures++;
  }
  return { turn: turns + 1, attempt: failures + 1 };
}

export class DebugCapture implements DebugCapturePort {
  readonly deps: CaptureDeps;
  private lastErrorLogAt = 0;

  constructor(deps: CaptureDeps) {
    this.deps = deps;
  }

  begin(
    run: RunRow,
    journal: readonly JournalEntry[],
    route: { route_id: string; model: string },
  ): ModelCallRecorder | null {
    const level = this.deps.level();
    if (level === undefined || level === 'off') return null;
    // Fail closed: with an unusable key nothing is written (status shows why).
    if (this.deps.store.key.state === 'invalid') return null;
    return new CallRecorder(this, run, callPosition(journal), route, level as CaptureLevel);
  }

  renderContext(level: CaptureLevel): RenderContext {
    const now = this.deps.tokens.current();
    return {
      level,
      secrets: this.deps.secrets(),
      // `on` stores no content: an unreadable token file does not matter to it.
      tokens: 'tokens' in now ? now.tokens : level === 'on' ? [] : null,
    };
  }

  failed(err: unknown, runId: string, artifactId: string): void {
    this.deps.store.counters.errors++;
    const now = Date.now();
    // One line a minute at most: a broken store must not flood the log on every model call.
    if (now - this.lastErrorLogAt < 60_000) return;
    this.lastErrorLogAt = now;
    this.deps.log.warn(
      { run_id: runId, artifact_id: artifactId, err: (err as Error)?.message ?? String(err) },
      'debug capture could not store an artifact (the run goes on; see /v1/status debug.capture_errors)',
    );
  }
}

class CallRecorder implements ModelCallRecorder {
  private readonly capture: DebugCapture;
  private readonly run: RunRow;
  private readonly prefix: string;
  private readonly position: { turn: number; attempt: number };
  private readonly route: { route_id: string; model: string };
  private readonly level: CaptureLevel;
  /** Set by the first write when the call's ids were taken already (a call re-made after a restart). */
  private suffix = '';
  private chain: Promise<void> = Promise.resolve();

  constructor(
    capture: DebugCapture,
    run: RunRow,
    position: { turn: number; attempt: number },
    route: { route_id: string; model: string },
    level: CaptureLevel,
  ) {
    this.capture = capture;
    this.run = run;
    this.position = position;
    this.prefix = `turn-${pad(position.turn)}-attempt-${pad(position.attempt)}`;
    this.route = route;
    this.level = level;
  }

  async call(driver: ModelDriver, req: ModelRequest): Promise<ModelResponse> {
    const started = Date.now();
    const head = {
      run_id: this.run.run_id,
      session_id: this.run.session_id,
      turn: this.position.turn,
      attempt: this.position.attempt,
      route_id: this.route.route_id,
      model: this.route.model,
      level: this.level,
    };
    this.enqueue('model-request', 'json', () => ({
      ...head,
      purpose: req.purpose ?? 'turn',
      call_index: req.call_index,
      captured_at_ms: started,
      messages: req.messages,
      tools: req.tools,
      generation: req.generation ?? {},
    }));
    const wire = new WireLog(this.capture.deps.store.budgets.max_artifact_bytes, (exchange) =>
      this.enqueue('provider-request', 'json', () => exchange),
    );
    let response: ModelResponse | undefined;
    let failure: { err: unknown } | undefined;
    try {
      response = await withWireCapture(wire, () => driver.call(req));
    } catch (err) {
      failure = { err };
    }
    for (const events of wire.finish())
      this.enqueue('provider-events', 'json_lines', () => events.lines, events.originalBytes);
    const duration_ms = Date.now() - started;
    this.enqueue('model-response', 'json', () =>
      failure
        ? { ...head, duration_ms, error: errorView(failure.err) }
        : {
            ...head,
            duration_ms,
            text: response!.text,
            tool_calls: response!.tool_calls,
            usage: response!.usage,
            stop_reason: response!.stop_reason,
            provider_stop_reason: response!.provider_stop_reason ?? null,
            warnings: response!.warnings ?? [],
          },
    );
    await this.chain;
    if (failure) throw failure.err;
    return response!;
  }

  /** Renders (at the call's level) and stores one artifact after the ones before it. */
  private enqueue(kind: string, format: ArtifactFormat, value: () => unknown, originalBytes?: number): void {
    const wanted = `${this.prefix}-${kind}`;
    this.chain = this.chain.then(async () => {
      try {
        const ctx = this.capture.renderContext(this.level);
        const raw = value();
        const text =
          format === 'json_lines'
            ? (raw as unknown[]).map((line) => JSON.stringify(renderValue(line, ctx))).join('\n')
            : JSON.stringify(renderValue(raw, ctx), null, 2);
        const { artifact_id } = await this.capture.deps.store.write({
          run_id: this.run.run_id,
          session_id: this.run.session_id,
          artifact_id: wanted + this.suffix,
          format,
          level: this.level,
          text,
          ...(originalBytes !== undefined ? { original_bytes: originalBytes } : {}),
        });
        // The first artifact of the call fixes the suffix all of its artifacts share.
        if (kind === 'model-request' && artifact_id) this.suffix = artifact_id.slice(wanted.length);
      } catch (err) {
        this.capture.failed(err, this.run.run_id, wanted);
      }
    });
  }
}

function errorView(err: unknown): Record<string, unknown> {
  if (err instanceof ModelCallError)
    return {
      name: err.name,
      message: err.message,
      status: err.status,
      retryable: err.retryable,
      retry_after_ms: err.retryAfterMs,
    };
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: 'Error', message: String(err) };
}
