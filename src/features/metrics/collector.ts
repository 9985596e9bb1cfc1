// Counters and histograms fed by the event log (src/store/event-log.ts): the engine already says
// what happened in its traces and run_updated events, so measuring needs no hook in the engine.
// Process-local: they start at zero when the daemon starts (Prometheus' rate() handles resets).
// With PostgreSQL every replica sees every replica's events, so each counts the whole cluster.
import type { BusEvent } from '../../store/event-log.ts';
import type { Instruments } from './instruments.ts';

const TERMINAL = new Set(['completed', 'failed', 'interrupted', 'cancelled']);
/** Bounds the per-run memory if events arrive for runs that never end here. */
const MAX_TRACKED_RUNS = 50_000;

interface RunView {
  run_id?: string;
  kind?: string;
  status?: string;
  submitted_at_ms?: number;
  started_at_ms?: number;
  finished_at_ms?: number;
  request?: { provider?: string };
  usage?: Partial<Record<'input_tokens' | 'output_tokens' | 'cached_input_tokens' | 'cost_usd', number>>;
}

interface Tracked {
  status: string;
  started: boolean;
  usage: Record<string, number>;
}

/** A step opened by a model call that asked for tools: it ends with the last of them. */
interface OpenStep {
  startedMs: number;
  pending: number;
}

const USAGE_TYPES = [
  ['input_tokens', 'input'],
  ['output_tokens', 'output'],
  ['cached_input_tokens', 'cached_input'],
] as const;

export class EventCollector {
  private readonly runs = new Map<string, Tracked>();
  private readonly steps = new Map<string, OpenStep>();
  private readonly startedAtMs: number;
  private readonly record: (fn: (m: Instruments) => void) => void;

  /** `record` applies a change to the instruments (now, or once prom-client is loaded). */
  constructor(startedAtMs: number, record: (fn: (m: Instruments) => void) => void) {
    this.startedAtMs = startedAtMs;
    this.record = record;
  }

  onEvent(ev: BusEvent): void {
    if (ev.name === 'run_updated') this.runUpdated(ev.data.run as RunView | undefined);
    else if (ev.name === 'trace' && ev.run_id) {
      const trace = ev.data.trace as Record<string, unknown> | undefined;
      if (trace) this.trace(ev.run_id, trace);
    }
  }

  private trace(runId: string, t: Record<string, unknown>): void {
    const route = String(t.route_id ?? 'unknown');
    switch (t.kind) {
      case 'model_turn_finished': {
        const seconds = Number(t.duration_ms ?? 0) / 1000;
        this.record((m) => {
          m.modelCalls.inc({ route, outcome: 'ok' });
          m.modelCallDuration.observe({ route }, seconds);
        });
        const tools = Array.isArray(t.tool_calls) ? t.tool_calls.length : 0;
        const startedMs = Number(t.started_at_ms ?? Date.now());
        if (tools === 0) {
          this.steps.delete(runId);
          this.observeStep(startedMs);
        } else if (this.steps.size < MAX_TRACKED_RUNS) this.steps.set(runId, { startedMs, pending: tools });
        return;
      }
      case 'model_retry':
      case 'model_error':
        this.record((m) => m.modelCalls.inc({ route, outcome: 'error' }));
        return;
      case 'tool_call_finished': {
        const tool = String(t.name ?? 'unknown');
        const outcome = String(t.outcome ?? 'ok');
        const ran = t.ran !== false;
        const seconds = Number(t.duration_ms ?? 0) / 1000;
        this.record((m) => {
          m.toolCalls.inc({ tool, outcome });
          if (ran) m.toolCallDuration.observe({ tool }, seconds);
        });
        const step = this.steps.get(runId);
        if (step && --step.pending <= 0) {
          this.steps.delete(runId);
          this.observeStep(step.startedMs);
        }
        return;
      }
    }
  }

  private observeStep(startedMs: number): void {
    const seconds = Math.max(0, Date.now() - startedMs) / 1000;
    this.record((m) => m.stepDuration.observe(seconds));
  }

  private runUpdated(run: RunView | undefined): void {
    if (!run?.run_id || !run.status) return;
    const id = run.run_id;
    const known = this.runs.get(id);
    // A run that began before this process: its earlier usage was counted by the process that
    // ran it, so only what it uses from now on counts here.
    const fromBefore = !known && (run.submitted_at_ms ?? 0) < this.startedAtMs;
    const usage = { ...(run.usage ?? {}) } as Record<string, number>;
    if (!fromBefore) this.countUsage(run.request?.provider ?? 'unknown', known?.usage ?? {}, usage);
    const started = run.started_at_ms !== undefined && run.started_at_ms !== null;
    if (started && !known?.started && !fromBefore && run.submitted_at_ms !== undefined) {
      const wait = Math.max(0, run.started_at_ms! - run.submitted_at_ms) / 1000;
      this.record((m) => m.queueWait.observe(wait));
    }
    if (TERMINAL.has(run.status)) {
      this.runs.delete(id);
      this.steps.delete(id);
      // Counted once: a later run_updated of a finished run (a delivery settling) is not a finish.
      const finishedHere = known
        ? !TERMINAL.has(known.status)
        : (run.finished_at_ms ?? 0) >= this.startedAtMs;
      if (!finishedHere) return;
      const status = run.status;
      const kind = run.kind ?? 'unknown';
      const duration =
        started && run.finished_at_ms !== undefined
          ? Math.max(0, run.finished_at_ms - run.started_at_ms!) / 1000
          : null;
      this.record((m) => {
        m.runsFinished.inc({ status, kind });
        if (duration !== null) m.runDuration.observe({ status }, duration);
      });
      return;
    }
    if (run.status.startsWith('waiting_')) this.steps.delete(id);
    if (known || this.runs.size < MAX_TRACKED_RUNS)
      this.runs.set(id, { status: run.status, started: started || Boolean(known?.started), usage });
  }

  private countUsage(route: string, before: Record<string, number>, after: Record<string, number>): void {
    const deltas: Array<[string, number]> = [];
    for (const [field, type] of USAGE_TYPES) {
      const d = (after[field] ?? 0) - (before[field] ?? 0);
      if (d > 0) deltas.push([type, d]);
    }
    const cost = (after.cost_usd ?? 0) - (before.cost_usd ?? 0);
    if (deltas.length === 0 && cost <= 0) return;
    this.record((m) => {
      for (const [type, d] of deltas) m.tokens.inc({ route, type }, d);
      if (cost > 0) m.cost.inc({ route }, cost);
    });
  }
}
