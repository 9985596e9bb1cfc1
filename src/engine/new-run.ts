// A new run: the route it is pinned to (run override, then the session's route policy, then the
// daemon default; ARCHITECTURE §5), its first row, and the transaction step that creates it.
import { monotonicFactory } from 'ulid';
import { DaemonError, errors } from '../errors/daemon-error.ts';
import { type RouteInventory, RouteResolutionError } from '../models/route-inventory.ts';
import { appendRunEvent } from '../store/repos/journal.ts';
import {
  findByIdempotency,
  insertRun,
  liveRunsOfSession,
  nextQueueSeq,
  type RunRow,
} from '../store/repos/runs.ts';
import { getSession, type SessionRow } from '../store/repos/sessions.ts';
import type { Store, WriteTx } from '../store/store.ts';
import { assertPrepared, type InputAssetsPort, runInputOwner } from './input-assets.ts';
import type { SubmitOptions } from './ports.ts';
import type { RunStatus, TransitionOptions } from './run-states.ts';
import { inputText, type StoredRunRequest } from './types.ts';

const ulid = monotonicFactory();

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

/** What creating a run needs of the engine. */
export interface NewRunPort {
  readonly routes: RouteInventory;
  readonly store: Store;
  inputAssets: InputAssetsPort | null;
  requestDefaults(session: SessionRow, request: StoredRunRequest): StoredRunRequest;
  recordRunChange(tx: WriteTx, run: RunRow, runEvent: Record<string, unknown> | null): Promise<void>;
  transition(tx: WriteTx, runId: string, to: RunStatus, opts?: TransitionOptions): Promise<RunRow>;
  kick(sessionId: string): Promise<void>;
}

/**
 * A queued run inside the caller's transaction, or the existing run an idempotency key names. An
 * idle session's run starts in the same transaction (one commit instead of two); `start` runs its
 * executor after the commit.
 */
export async function createRunInTx(
  engine: NewRunPort,
  tx: WriteTx,
  sessionId: string,
  submitted: StoredRunRequest,
  opts: SubmitOptions,
  start: (run: RunRow) => void,
): Promise<{ run: RunRow; reused: boolean }> {
  let request = submitted;
  const session = await getSession(tx.db, sessionId);
  if (!session) throw errors.sessionNotFound(sessionId);
  if (opts.idempotency) {
    const existing = await findByIdempotency(tx.db, sessionId, opts.idempotency.keyHash);
    if (existing) {
      if (existing.idempotency_fingerprint !== opts.idempotency.fingerprint) {
        throw new DaemonError(
          409,
          'idempotency',
          'idempotency_conflict',
          `idempotency key was already used for run ${existing.run_id} with a different request`,
        );
      }
      return { run: existing, reused: true };
    }
  }
  if (session.ended_at_ms !== null) throw errors.sessionEnded(sessionId);
  const live = await liveRunsOfSession(tx.db, sessionId);
  if (opts.requireIdle && live.length > 0) throw errors.sessionBusy(sessionId);
  const route = pinRoute(engine.routes, request, session.route_policy);
  const assetIds = assertPrepared(engine.inputAssets, request);
  if (request.output_contract === undefined && session.output_contract !== null)
    request = { ...request, output_contract: JSON.parse(session.output_contract) };
  request = engine.requestDefaults(session, request);
  const runId = `run-${ulid().toLowerCase()}`;
  const text = inputText(request);
  const row = newRunRow({
    runId,
    sessionId,
    agentId: session.agent_id,
    request,
    text,
    route,
    queueSeq: await nextQueueSeq(tx.db),
    now: tx.now,
    opts,
  });
  await insertRun(tx.db, row);
  if (assetIds.length > 0) await engine.inputAssets!.reference(tx, runInputOwner(row), assetIds);
  await engine.store.journal.append(tx, sessionId, runId, [
    { kind: 'input_received', payload: { text, request } },
  ]);
  await appendRunEvent(tx.db, {
    run_id: runId,
    session_id: sessionId,
    agent_id: row.agent_id,
    timestamp_ms: tx.now,
    event: { type: 'accepted' },
  });
  await engine.recordRunChange(tx, row, { type: 'queued', position: live.length });
  if (live.length > 0) {
    tx.afterCommit(() => void engine.kick(sessionId).catch(() => undefined));
    return { run: row, reused: false };
  }
  // An idle session starts the run in the same transaction: one commit instead of two.
  const running = await engine.transition(tx, runId, 'running', { current: row });
  tx.afterCommit(() => start(running));
  return { run: running, reused: false };
}
