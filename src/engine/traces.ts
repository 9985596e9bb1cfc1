// Step traces (docs/events.md): what a run did, as `trace` events on its run and session streams,
// each also kept in the run's persisted event list (GET /v1/runs/{id}/events) as
// `{type: "trace", trace}`. Durable traces are written inside a transaction the step already
// commits (one commit per step, docs/decisions.md #82); live-only ones are never stored.
import type { EventInput, EventLog } from '../store/event-log.ts';
import { appendRunEvents } from '../store/repos/journal.ts';
import type { WriteTx } from '../store/store.ts';

/** The run a trace belongs to (a RunRow fits). */
export interface TraceRun {
  run_id: string;
  session_id: string;
  agent_id: string;
}

/** A trace body without its scope: `kind` and the kind's own fields. */
export type Trace = { kind: string } & Record<string, unknown>;

function frame(run: TraceRun, trace: Trace): EventInput {
  // kind, session_id and run_id lead, so every trace reads the same way.
  const { kind, ...fields } = trace;
  return {
    name: 'trace',
    session_id: run.session_id,
    run_id: run.run_id,
    data: { trace: { kind, session_id: run.session_id, run_id: run.run_id, ...fields } },
  };
}

/** Appends durable traces of `run` inside `tx`: stream events and run events, in this order. */
export async function appendTraces(
  events: Pick<EventLog, 'append'>,
  tx: WriteTx,
  run: TraceRun,
  traces: Trace[],
): Promise<void> {
  if (traces.length === 0) return;
  const inputs = traces.map((t) => frame(run, t));
  await events.append(tx, inputs);
  await appendRunEvents(
    tx.db,
    inputs.map((input) => ({
      run_id: run.run_id,
      session_id: run.session_id,
      agent_id: run.agent_id,
      timestamp_ms: tx.now,
      event: { type: 'trace', ...input.data },
    })),
  );
}

/** A live-only trace: streamed to current readers, never stored or replayed. */
export function publishLiveTrace(events: Pick<EventLog, 'publishLive'>, run: TraceRun, trace: Trace): void {
  events.publishLive(frame(run, trace));
}
