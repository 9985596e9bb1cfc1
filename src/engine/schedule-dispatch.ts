// The run of one schedule fire, created inside the occurrence's transaction (scheduler.ts claims the
// occurrence and records the execution in that same transaction). A plain schedule submits its
// stored request as a `scheduled_input` run; a schedule with an embedded observation
// materialization asks the installed SchedulePayloadPort to select the observations now, so the
// run holds what was present at fire time, or says why this occurrence is skipped.
import type { RunRow } from '../store/repos/runs.ts';
import type { ScheduleRow } from '../store/repos/schedules.ts';
import type { WriteTx } from '../store/store.ts';
import type { SchedulerPort } from './ports.ts';
import type { RunKind, StoredRunRequest } from './types.ts';

/** The key under which the `request` column holds an embedded materialization instead of a request. */
export const OBSERVATION_PAYLOAD = 'observation_materialization';
/** The key under which it holds a Flow to start at each fire (playbooks feature). */
export const FLOW_START_PAYLOAD = 'flow_start';
/** Every embedded payload key; a stored object with none of them is a plain request. */
export const EMBEDDED_PAYLOADS: readonly string[] = [OBSERVATION_PAYLOAD, FLOW_START_PAYLOAD];

/** The kinds of the runs fires create (their end settles the fire's execution). */
export const SCHEDULED_KINDS: ReadonlySet<string> = new Set<RunKind>([
  'scheduled_input',
  'scheduled_observation_materialization',
]);

/** The stored materialization body of a schedule, or null for a plain request schedule. */
export function observationPayloadOf(stored: unknown): Record<string, unknown> | null {
  const e = embeddedPayloadOf(stored);
  return e?.key === OBSERVATION_PAYLOAD ? e.body : null;
}

/** The embedded payload of a stored schedule (its key and body), or null for a plain request. */
export function embeddedPayloadOf(stored: unknown): { key: string; body: Record<string, unknown> } | null {
  if (stored === null || typeof stored !== 'object' || Array.isArray(stored)) return null;
  for (const key of EMBEDDED_PAYLOADS) {
    const body = (stored as Record<string, unknown>)[key];
    if (body !== null && typeof body === 'object') return { key, body: body as Record<string, unknown> };
  }
  return null;
}

/** Scheduled runs say where they come from; the payload cannot spoof it. */
export function stampRequest(
  req: StoredRunRequest,
  s: ScheduleRow,
  at: number,
  sourceKind: RunKind = 'scheduled_input',
): StoredRunRequest {
  const md = req.metadata;
  const base =
    md !== null && typeof md === 'object' && !Array.isArray(md)
      ? (md as Record<string, unknown>)
      : md === undefined
        ? {}
        : { value: md };
  return {
    ...req,
    source_plugin: 'scheduler',
    source_kind: sourceKind,
    actor_id: s.schedule_id,
    metadata: { ...base, schedule_id: s.schedule_id, scheduled_for_ms: at },
  };
}

/** Creates the run of the fire at `at` in `tx`, or returns why the occurrence is skipped. */
export async function dispatchFire(
  engine: SchedulerPort,
  tx: WriteTx,
  s: ScheduleRow,
  at: number,
  now: number,
): Promise<{ run: RunRow } | { skip: string }> {
  const stored = JSON.parse(s.request) as unknown;
  const embedded = embeddedPayloadOf(stored);
  if (embedded === null) {
    const request = stampRequest(stored as StoredRunRequest, s, at);
    return engine.submitInTx(tx, s.target_session_id, request, { kind: 'scheduled_input' });
  }
  const port = engine.schedulePayloads.get(embedded.key);
  if (!port)
    return {
      skip:
        embedded.key === OBSERVATION_PAYLOAD
          ? 'this daemon has no observations store: the materialization cannot run'
          : `this daemon cannot run a ${embedded.key} payload`,
    };
  const built = await port.runFor(tx, embedded.body, {
    schedule_id: s.schedule_id,
    session_id: s.target_session_id,
    now,
  });
  if ('skip' in built) return built;
  const request = stampRequest(built.request, s, at, built.kind);
  const { run } = await engine.submitInTx(tx, s.target_session_id, request, { kind: built.kind });
  await built.submitted?.(tx, run);
  return { run };
}
