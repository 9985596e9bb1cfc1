// What a submit decides before it writes: the route a new run is pinned to (run override, then
// the session's route policy, then the daemon default; ARCHITECTURE §5) and the run's first row.
import { DaemonError } from '../errors/daemon-error.ts';
import { type RouteInventory, RouteResolutionError } from '../models/route-inventory.ts';
import type { RunRow } from '../store/repos/runs.ts';
import type { SubmitOptions } from './ports.ts';
import type { StoredRunRequest } from './types.ts';

export interface PinnedRoute {
  route_id: string;
  model: string;
}

/** The run's route; an unknown or not-ready route refuses the submit (`routes/…`). */
export function pinRoute(
  routes: RouteInventory,
  request: StoredRunRequest,
  policyJson: string | null,
): PinnedRoute {
  const policy = policyJson
    ? (JSON.parse(policyJson) as { provider?: string; generation?: { model?: string } })
    : null;
  try {
    return routes.resolve(
      { provider: request.provider, model: request.generation?.model as string | undefined },
      policy ? { provider: policy.provider, model: policy.generation?.model } : null,
    );
  } catch (err) {
    if (err instanceof RouteResolutionError) {
      const status = err.code === 'route_not_ready' ? 409 : 400;
      throw new DaemonError(status, 'routes', err.code, err.message);
    }
    throw err;
  }
}

/** The `queued` row of a new run (its summary previews the input text). */
export function newRunRow(a: {
  runId: string;
  sessionId: string;
  agentId: string;
  request: StoredRunRequest;
  text: string;
  route: PinnedRoute;
  queueSeq: number;
  now: number;
  opts: SubmitOptions;
}): RunRow {
  const { request, text, route, now, opts } = a;
  return {
    run_id: a.runId,
    session_id: a.sessionId,
    agent_id: a.agentId,
    kind: opts.kind ?? 'input',
    status: 'queued',
    queue_seq: a.queueSeq,
    submitted_at_ms: now,
    updated_at_ms: now,
    started_at_ms: null,
    finished_at_ms: null,
    request: JSON.stringify(request),
    summary: JSON.stringify({
      source_plugin: request.source_plugin,
      source_kind: request.source_kind,
      actor_id: request.actor_id,
      text_preview: text.length > 200 ? `${text.slice(0, 197)}...` : text,
      provider: route.route_id,
      model: route.model,
    }),
    route_id: route.route_id,
    model: route.model,
    error: null,
    idempotency_key_hash: opts.idempotency?.keyHash ?? null,
    idempotency_fingerprint: opts.idempotency?.fingerprint ?? null,
    usage: null,
    error_code: null,
  };
}
