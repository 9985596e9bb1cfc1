// Submission rules (input shape, idempotency, inline vs detached) and run reads.
import { createHash } from 'node:crypto';
import type { Engine } from '../../engine/engine.ts';
import { externalActionsOfRun } from '../../engine/external-actions.ts';
import { canonicalJson } from '../../engine/output-contract.ts';
import type { StoredRunRequest } from '../../engine/types.ts';
import { buildRunView, buildSessionView } from '../../engine/views.ts';
import { DaemonError, errors } from '../../errors/daemon-error.ts';
import { runEvents } from '../../store/repos/journal.ts';
import {
  getRun,
  isLive,
  listRuns,
  listRunsByPriority,
  type PriorityKey,
  type RunRow,
} from '../../store/repos/runs.ts';
import { getSession } from '../../store/repos/sessions.ts';
import { formatTraceparent, parseTraceparent } from '../../telemetry/trace-context.ts';
import { applyInputContract, type InputContract } from '../sessions/contracts.ts';
import { normalizeContract } from '../sessions/service.ts';
import type { SubmitRunRequest } from './schema.ts';

const invalidInput = (detail: string) => new DaemonError(400, 'sessions', 'invalid_input', detail);
const invalidKey = (detail: string) => new DaemonError(400, 'idempotency', 'invalid_idempotency_key', detail);

/** Applies the documented input rules and returns the request as it is stored with the run. */
export function normalizeSubmission(body: SubmitRunRequest): StoredRunRequest {
  const content = body.content ?? '';
  if (body.input_items !== undefined && (content !== '' || body.attachments?.length)) {
    throw invalidInput(
      'input_items cannot be combined with content or attachments; send one shape or the other',
    );
  }
  const hasItems = (body.input_items ?? []).some((i) => i.type !== 'text' || i.text.trim() !== '');
  if (content.trim() === '' && !body.attachments?.length && !hasItems) {
    throw invalidInput('the submission carries no input: give content, attachments or input_items');
  }
  for (const item of [...(body.input_items ?? []), ...(body.attachments ?? [])]) {
    if (item.type === 'inline_asset' && (item.file_name.trim() === '' || item.content_base64 === ''))
      throw invalidInput('inline assets need a non-empty file_name and content_base64');
    if (item.type === 'asset_reference' && item.asset_id.trim() === '')
      throw invalidInput('asset_id must not be empty');
    if (item.type === 'board_reference' && item.board_id.trim() === '')
      throw invalidInput('board_id must not be empty');
  }
  if (body.provider && body.route_id && body.provider !== body.route_id)
    throw invalidInput('provider and route_id name different routes; send one of them');
  const stored: StoredRunRequest = {
    source_plugin: body.source_plugin ?? 'http',
    source_kind: body.source_kind ?? 'api',
    actor_id: body.actor_id ?? 'operator',
    content,
  };
  const provider = body.provider ?? body.route_id;
  if (provider !== undefined) stored.provider = provider;
  if (body.input_items !== undefined) stored.input_items = body.input_items;
  if (body.attachments?.length) stored.attachments = body.attachments;
  if (body.generation !== undefined) stored.generation = body.generation;
  if (body.completion_requirements !== undefined)
    stored.completion_requirements = body.completion_requirements;
  if (body.metadata !== undefined) stored.metadata = body.metadata;
  if (body.binding_keys !== undefined) stored.binding_keys = body.binding_keys;
  if (body.reply_targets !== undefined) stored.reply_targets = body.reply_targets;
  // Deprecated compatibility fields (api-core §3.6): one raw target.
  else if (body.reply_plugin !== undefined && body.reply_address !== undefined)
    stored.reply_targets = [{ plugin: body.reply_plugin, address: body.reply_address }];
  if (body.budget !== undefined) stored.budget = body.budget;
  const contract = normalizeContract(body.output_contract);
  if (contract) stored.output_contract = contract;
  return stored;
}

/**
 * The submitter's `traceparent`, stored with the run when it is valid W3C trace context; an
 * invalid one is ignored, as the W3C spec asks of a receiver (docs/decisions.md #605).
 */
export function withTraceContext(
  request: StoredRunRequest,
  header: string | string[] | undefined,
): StoredRunRequest {
  const ref = parseTraceparent(header);
  return ref ? { ...request, trace_context: formatTraceparent(ref) } : request;
}

/** Header and body keys must agree; empty or non-ASCII keys are refused. */
export function idempotencyKey(
  header: string | string[] | undefined,
  bodyKey: string | undefined,
): string | null {
  const h = Array.isArray(header) ? header[0] : header;
  if (h !== undefined && !/^[\x20-\x7e]*$/.test(h))
    throw invalidKey('the Idempotency-Key header must be ASCII');
  for (const k of [h, bodyKey])
    if (k !== undefined && k.trim() === '') throw invalidKey('the idempotency key is empty');
  if (h !== undefined && bodyKey !== undefined && h.trim() !== bodyKey.trim())
    throw invalidKey('the Idempotency-Key header and the idempotency_key field differ');
  const key = (h ?? bodyKey)?.trim();
  return key === undefined ? null : key;
}

export const fingerprint = (req: unknown): string =>
  createHash('sha256')
    .update(`kheish-run-request-v1\n${canonicalJson(req)}`)
    .digest('hex');

export const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** Reply-target requests → normalized ReplyHandles (the deliveries feature; 400 when one is bad). */
export type TargetNormalizer = (requests: unknown[]) => Promise<Array<{ plugin: string; address: string }>>;

export class RunsService {
  private readonly engine: Engine;
  private readonly targets: TargetNormalizer;
  constructor(engine: Engine, targets: TargetNormalizer) {
    this.engine = engine;
    this.targets = targets;
  }
  private get db() {
    return this.engine.store.db;
  }

  async submitDetached(
    sessionId: string,
    body: SubmitRunRequest,
    header: string | string[] | undefined,
    traceparent?: string | string[],
  ) {
    const key = idempotencyKey(header, body.idempotency_key);
    const request = await this.checkedInput(sessionId, normalizeSubmission(body));
    // The trace context is not part of the fingerprint: a retry from another trace is the same run.
    const { run } = await this.engine.submit(sessionId, withTraceContext(request, traceparent), {
      idempotency: key === null ? undefined : { keyHash: sha256(key), fingerprint: fingerprint(request) },
    });
    return buildRunView(this.db, (await getRun(this.db, run.run_id)) ?? run);
  }

  /** Inline: runs to a terminal or waiting state, then answers with the session. */
  async submitInline(
    sessionId: string,
    body: SubmitRunRequest,
    signal: AbortSignal,
    traceparent?: string | string[],
  ) {
    const request = await this.checkedInput(sessionId, normalizeSubmission(body));
    const { run } = await this.engine.submit(sessionId, withTraceContext(request, traceparent), {
      requireIdle: true,
    });
    await this.engine.waitSettled(run.run_id, signal);
    const session = await getSession(this.db, sessionId);
    if (!session) throw errors.sessionNotFound(sessionId);
    return buildSessionView(this.db, session);
  }

  /**
   * A submit body as the standard session-run path stores it: normalized, reply targets resolved,
   * the session's input contract applied. For features that submit runs of their own (flows).
   */
  async prepareInput(sessionId: string, body: SubmitRunRequest): Promise<StoredRunRequest> {
    return this.checkedInput(sessionId, normalizeSubmission(body));
  }

  /** The session's input contract, when it has one, checks and canonicalizes the input (no run otherwise). */
  private async checkedInput(sessionId: string, submitted: StoredRunRequest): Promise<StoredRunRequest> {
    const request =
      submitted.reply_targets === undefined
        ? submitted
        : { ...submitted, reply_targets: await this.targets(submitted.reply_targets) };
    const contract = (await getSession(this.db, sessionId))?.input_contract;
    return contract ? applyInputContract(request, JSON.parse(contract) as InputContract) : request;
  }

  async get(runId: string) {
    const run = await getRun(this.db, runId);
    if (!run) throw errors.runNotFound(runId);
    return buildRunView(this.db, run);
  }

  async events(runId: string) {
    await this.get(runId);
    return runEvents(this.db, runId);
  }

  async externalActions(runId: string) {
    await this.get(runId);
    return externalActionsOfRun(this.db, runId);
  }

  async cancel(runId: string) {
    const run = await this.engine.cancel(runId);
    return buildRunView(this.db, (await getRun(this.db, runId)) ?? run);
  }

  async list(q: {
    session_id?: string;
    order: 'asc' | 'desc';
    after?: number;
    limit: number;
    lastN: boolean;
  }) {
    const { rows, total } = await listRuns(this.db, {
      session_id: q.session_id,
      // The legacy array with a limit holds the *last* N runs, in submission order.
      order: q.lastN ? 'desc' : q.order,
      after_seq: q.after,
      limit: q.limit + 1,
    });
    const hasMore = rows.length > q.limit;
    const page = rows.slice(0, q.limit);
    // The last N are read newest first; `order=desc` keeps them so, the default shows them oldest first.
    if (q.lastN && q.order !== 'desc') page.reverse();
    const items = await Promise.all(page.map((r) => buildRunView(this.db, r)));
    return { items, total, hasMore, lastKey: page.at(-1)?.queue_seq };
  }

  /**
   * `priority_active=true`: live runs first, then the others, each most recently updated first; with
   * `limit` alone (the legacy array) the first `limit` of that order, so active work is never cut.
   */
  async listByPriority(q: { session_id?: string; limit: number; after?: string }) {
    const { rows, total } = await listRunsByPriority(this.db, {
      session_id: q.session_id,
      limit: q.limit + 1,
      after: q.after === undefined ? undefined : parsePriorityKey(q.after),
    });
    const hasMore = rows.length > q.limit;
    const page = rows.slice(0, q.limit);
    const items = await Promise.all(page.map((r) => buildRunView(this.db, r)));
    const last = page.at(-1);
    return { items, total, hasMore, lastKey: last && priorityKeyOf(last) };
  }
}

const priorityKeyOf = (r: RunRow): string =>
  `p.${isLive(r.status) ? 1 : 0}.${r.updated_at_ms}.${r.queue_seq}`;

function parsePriorityKey(key: string): PriorityKey {
  const m = /^p\.([01])\.(\d+)\.(\d+)$/.exec(key);
  if (!m)
    throw new DaemonError(
      400,
      'pagination',
      'invalid_cursor',
      'cursor is not one this daemon issued for priority_active=true; start again without it',
    );
  return { live: m[1] === '1', updated_at_ms: Number(m[2]), queue_seq: Number(m[3]) };
}
