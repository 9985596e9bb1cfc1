// Output routing (api-collab §8, api-core §3.4/§3.14): the output plugins, session reply-target
// defaults, the reply-target snapshot of each new run, one delivery per output and target queued
// in the output's own transaction, and the operator's reads and actions on the queue.
import type { Engine } from '../../engine/engine.ts';
import type { StoredRunRequest } from '../../engine/types.ts';
import { buildSessionView } from '../../engine/views.ts';
import { DaemonError, errors } from '../../errors/daemon-error.ts';
import {
  type DeliveryCounts,
  type DeliveryFilter,
  type DeliveryRow,
  deliveryCounts,
  deliveryView,
  getDelivery,
  insertDelivery,
  latestReplayOf,
  listDeliveries,
} from '../../store/repos/deliveries.ts';
import type { RunRow } from '../../store/repos/runs.ts';
import { getSession, type SessionRow, updateSession } from '../../store/repos/sessions.ts';
import type { Executor } from '../../store/schema.ts';
import type { WriteTx } from '../../store/store.ts';
import { type ReplayBulkRequest, replayBulk, resetBackpressure } from './bulk.ts';
import { deliveryTrace, type StoredPayload, ulid } from './delivery-rules.ts';
import type { DeliveriesPort, DeliveryArtifact, OutputPlugin, ReplyHandle } from './port.ts';
import type { DeliveryQueue } from './queue.ts';
import type { DeliverySettings } from './settings.ts';
import { MAX_REPLY_TARGETS, normalizeTargets, storedHandles, targetDigest } from './targets.ts';

const notFound = (id: string) =>
  new DaemonError(404, 'deliveries', 'delivery_not_found', `no delivery with id ${id}`);
const notDeadLettered = (id: string, status: string) =>
  new DaemonError(
    409,
    'deliveries',
    'delivery_not_dead_lettered',
    `delivery ${id} is ${status}; only dead-lettered deliveries can be replayed or resolved`,
  );

export class DeliveriesService implements DeliveriesPort {
  private readonly engine: Engine;
  readonly settings: DeliverySettings;
  readonly plugins = new Map<string, OutputPlugin>();
  queue!: DeliveryQueue;
  /** GET /v1/status: how often counting the queue failed, and the last reason. */
  statusErrorCount = 0;
  lastStatusError: string | null = null;

  constructor(engine: Engine, settings: DeliverySettings) {
    this.engine = engine;
    this.settings = settings;
  }

  private get db() {
    return this.engine.store.db;
  }

  registerPlugin(plugin: OutputPlugin): void {
    if (this.plugins.has(plugin.plugin))
      throw new Error(`output plugin ${plugin.plugin} is registered twice`);
    this.plugins.set(plugin.plugin, plugin);
  }

  normalizeTargets(requests: unknown[]): Promise<ReplyHandle[]> {
    return normalizeTargets(this.plugins, requests);
  }

  // ---------------------------------------------------------------- session defaults (api-core §3.4)

  async sessionTargets(sessionId: string): Promise<{ reply_targets: ReplyHandle[] }> {
    const s = await getSession(this.db, sessionId);
    if (!s) throw errors.sessionNotFound(sessionId);
    return { reply_targets: storedHandles(s.reply_targets ? JSON.parse(s.reply_targets) : []) };
  }

  /** Replaces the defaults (prospective: runs already created keep their snapshot, #66). */
  async setSessionTargets(sessionId: string, requests: unknown[] | null) {
    const handles = requests === null ? [] : await this.normalizeTargets(requests);
    const row = await this.engine.store.write(async (tx) => {
      const s = await getSession(tx.db, sessionId);
      if (!s) throw errors.sessionNotFound(sessionId);
      const reply_targets = handles.length > 0 ? JSON.stringify(handles) : null;
      await updateSession(tx.db, sessionId, { reply_targets, updated_at_ms: tx.now });
      return { ...s, reply_targets, updated_at_ms: tx.now } satisfies SessionRow;
    });
    return buildSessionView(this.db, row);
  }

  // ---------------------------------------------------------------- for the connectors feature

  /** The session's stored defaults, read inside the caller's transaction. */
  async sessionReplyDefaults(db: Executor, sessionId: string): Promise<ReplyHandle[]> {
    const s = await getSession(db, sessionId);
    return storedHandles(s?.reply_targets ? JSON.parse(s.reply_targets) : []);
  }

  /** §7 write-back: an ingress's explicit (already normalized) targets become the session's defaults. */
  async writeBackReplyDefaults(sessionId: string, targets: ReplyHandle[]): Promise<void> {
    const handles = storedHandles(targets).slice(0, MAX_REPLY_TARGETS);
    if (handles.length === 0) return;
    await this.engine.store.write(async (tx) => {
      if (!(await getSession(tx.db, sessionId))) return;
      await updateSession(tx.db, sessionId, {
        reply_targets: JSON.stringify(handles),
        updated_at_ms: tx.now,
      });
    });
  }

  /** After a connector is deleted: drops the session defaults that name it (address `connector`). */
  async clearConnectorTargets(kind: string, name: string): Promise<number> {
    const names = (h: ReplyHandle) => {
      if (h.plugin !== kind) return false;
      try {
        return (JSON.parse(h.address) as { connector?: unknown }).connector === name;
      } catch {
        return false;
      }
    };
    return this.engine.store.write(async (tx) => {
      const rows = await tx.db
        .selectFrom('sessions')
        .select(['session_id', 'reply_targets'])
        .where('reply_targets', 'is not', null)
        .execute();
      let changed = 0;
      for (const r of rows) {
        const handles = storedHandles(JSON.parse(r.reply_targets!));
        const kept = handles.filter((h) => !names(h));
        if (kept.length === handles.length) continue;
        const reply_targets = kept.length > 0 ? JSON.stringify(kept) : null;
        await updateSession(tx.db, r.session_id, { reply_targets, updated_at_ms: tx.now });
        changed++;
      }
      return changed;
    });
  }

  /** The run's snapshot: its own targets, else the session's defaults at creation (engine.requestDefaults). */
  snapshotTargets(session: SessionRow, request: StoredRunRequest): StoredRunRequest {
    if (request.reply_targets !== undefined || session.reply_targets === null) return request;
    const defaults = storedHandles(JSON.parse(session.reply_targets));
    return defaults.length > 0 ? { ...request, reply_targets: defaults } : request;
  }

  // ---------------------------------------------------------------- queueing (engine.onOutput)

  /**
   * One delivery per target, in the output's transaction. Targets: the output's own override, else
   * the run's snapshot, else the session's current defaults; none keeps the output local.
   */
  async enqueueOutput(tx: WriteTx, run: RunRow, record: Record<string, unknown>): Promise<void> {
    const targets = await this.targetsOf(tx, run, record);
    if (targets.length === 0) return;
    const payload: StoredPayload = {
      content: typeof record.content === 'string' ? record.content : '',
      parts: Array.isArray(record.parts) ? record.parts : [],
      artifacts: Array.isArray(record.artifacts) ? (record.artifacts as DeliveryArtifact[]) : [],
      metadata: isObject(record.metadata) ? record.metadata : {},
      source_kind: typeof record.source_kind === 'string' ? record.source_kind : 'assistant_text',
    };
    const json = JSON.stringify(payload);
    for (const target of targets) {
      const row = newRow(tx.now, run.run_id, run.session_id, target, json, null);
      await insertDelivery(tx.db, row);
      await deliveryTrace(this.engine.events, tx, { ...row, id: 0 });
    }
    tx.afterCommit(() => this.queue.wake());
  }

  private async targetsOf(tx: WriteTx, run: RunRow, record: Record<string, unknown>): Promise<ReplyHandle[]> {
    if (Array.isArray(record.reply_targets)) return this.handlesOf(record.reply_targets);
    const request = JSON.parse(run.request) as StoredRunRequest;
    if (request.reply_targets !== undefined) return this.handlesOf(request.reply_targets);
    const session = await getSession(tx.db, run.session_id);
    return storedHandles(session?.reply_targets ? JSON.parse(session.reply_targets) : []);
  }

  /**
   * Stored targets as handles. A path that stored a run request without normalizing its targets
   * (structured variants) still gets them delivered: the claiming plugin converts each one here;
   * one no plugin converts is dropped (it could not be sent anyway).
   */
  private handlesOf(value: unknown[]): ReplyHandle[] {
    const out: ReplyHandle[] = [];
    for (const t of value) {
      const handle = storedHandles([t])[0] ?? this.fromStructured(t);
      if (handle) out.push(handle);
    }
    return out;
  }

  private fromStructured(t: unknown): ReplyHandle | null {
    if (typeof t !== 'object' || t === null || typeof (t as { type?: unknown }).type !== 'string')
      return null;
    const r = t as Record<string, unknown>;
    const ordered = [this.plugins.get(r.type as string), ...this.plugins.values()];
    for (const p of ordered) {
      try {
        const h = p?.fromStructured?.(r);
        if (h) return h;
      } catch {
        return null;
      }
    }
    return null;
  }

  // ---------------------------------------------------------------- reads

  async list(f: DeliveryFilter) {
    const { rows, total } = await listDeliveries(this.db, f);
    return { items: rows.map(deliveryView), total, keys: rows.map((r) => r.id) };
  }

  async get(id: string) {
    const row = await getDelivery(this.db, id);
    if (!row) throw notFound(id);
    return deliveryView(row);
  }

  async counts(): Promise<DeliveryCounts> {
    return deliveryCounts(this.db);
  }

  async metrics() {
    const c = await this.counts();
    return {
      pending: c.pending,
      retrying: c.retrying,
      in_flight: c.in_flight,
      delivered: c.delivered,
      dead_lettered: c.dead_lettered,
      unresolved_dead_lettered: c.unresolved_dead_lettered,
      needs_operator: c.needs_operator,
      worker_lag_ms: c.oldest_due_at_ms === null ? 0 : Math.max(0, Date.now() - c.oldest_due_at_ms),
      by_plugin: c.by_plugin,
      plugins: [...this.plugins.values()].map((p) => ({
        plugin: p.plugin,
        receiver_deduplicates: p.receiverDeduplicates,
      })),
      retry_policy: {
        initial_retry_ms: this.settings.initialRetryMs,
        max_retry_ms: this.settings.maxRetryMs,
        max_retry_after_ms: this.settings.maxRetryAfterMs,
        max_attempts: this.settings.maxAttempts,
      },
      worker: { in_flight_here: this.queue.inflightCount, error_count: this.queue.errorCount },
    };
  }

  // ---------------------------------------------------------------- operator actions

  /** A new pending delivery from a dead letter; a non-forced repeat returns the existing replay (#67). */
  async replay(id: string, force: boolean) {
    const row = await this.engine.store.write(async (tx) => {
      const original = await getDelivery(tx.db, id);
      if (!original) throw notFound(id);
      if (original.status !== 'dead_lettered') throw notDeadLettered(id, original.status);
      if (!force) {
        const existing = await latestReplayOf(tx.db, id);
        if (existing) return existing;
      }
      const target = { plugin: original.plugin, address: original.address };
      const fresh = newRow(tx.now, original.run_id, original.session_id, target, original.payload, id);
      await insertDelivery(tx.db, fresh);
      await deliveryTrace(this.engine.events, tx, { ...fresh, id: 0 });
      tx.afterCommit(() => this.queue.wake());
      return (await getDelivery(tx.db, fresh.delivery_id))!;
    });
    return deliveryView(row);
  }

  replayBulk(req: ReplayBulkRequest) {
    return replayBulk(
      this.engine.store,
      this.engine.events,
      req,
      (now, o) =>
        newRow(
          now,
          o.run_id,
          o.session_id,
          { plugin: o.plugin, address: o.address },
          o.payload,
          o.delivery_id,
        ),
      () => this.queue.wake(),
    );
  }

  resetBackpressure(req: { target_digest?: string; plugin?: string; dry_run?: boolean }) {
    if (req.target_digest === undefined && req.plugin === undefined)
      throw new DaemonError(400, 'deliveries', 'invalid_request', 'give target_digest or plugin');
    return resetBackpressure(this.engine.store, req, () => this.queue.wake());
  }

  /** Marks a dead letter handled without sending it (docs/decisions.md #286); repeating is harmless. */
  async resolve(id: string, reason: string) {
    const row = await this.engine.store.write(async (tx) => {
      const r = await getDelivery(tx.db, id);
      if (!r) throw notFound(id);
      if (r.status !== 'dead_lettered') throw notDeadLettered(id, r.status);
      if (r.resolved_at_ms !== null) return r;
      const patch = { resolved_at_ms: tx.now, resolution_reason: reason, updated_at_ms: tx.now };
      await tx.db.updateTable('deliveries').set(patch).where('delivery_id', '=', id).execute();
      const next = { ...r, ...patch };
      await deliveryTrace(this.engine.events, tx, next);
      return next;
    });
    return deliveryView(row);
  }
}

function newRow(
  now: number,
  runId: string,
  sessionId: string,
  target: ReplyHandle,
  payload: string,
  replayedFrom: string | null,
): Omit<DeliveryRow, 'id'> {
  return {
    delivery_id: `dlv-${ulid().toLowerCase()}`,
    run_id: runId,
    session_id: sessionId,
    plugin: target.plugin,
    address: target.address,
    target_digest: targetDigest(target),
    payload,
    status: 'pending',
    attempts: 0,
    next_attempt_at_ms: now,
    in_flight_since_ms: null,
    lease_owner: null,
    lease_expires_at_ms: null,
    last_error_code: null,
    last_error: null,
    needs_operator: 0,
    progress: null,
    replayed_from_delivery_id: replayedFrom,
    resolved_at_ms: null,
    resolution_reason: null,
    created_at_ms: now,
    updated_at_ms: now,
    delivered_at_ms: null,
    dead_lettered_at_ms: null,
  };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
