// The observations feature's service: sources, ingress, listing, audit, capture agents,
// materialization, and the retention/heartbeat timer. Each concern lives in its own module.
import { DaemonError } from '../../errors/daemon-error.ts';
import { fetchLimit, parsePage, renderPage } from '../../http/pagination.ts';
import {
  appendAudit,
  getObservation,
  getSource,
  listAudit,
  listObservations,
  setCanonicalTextAsset,
} from '../../store/repos/observations.ts';
import { CaptureAgents } from './capture-agents.ts';
import { type ObservationsContext, observationNotFound } from './context.ts';
import { Ingress } from './ingest.ts';
import { Materializer } from './materialize.ts';
import type { ObservationsPort } from './port.ts';
import { sweepExpired } from './retention.ts';
import { checkScheduled } from './scheduled.ts';
import type { MaterializationRequest, ObservationAuditRecord, ObservationView } from './schema.ts';
import { Sources } from './sources.ts';
import { auditView, observationView } from './views.ts';

export const AUDIT_DEFAULT_LIMIT = 100;
export const AUDIT_MAX_LIMIT = 1000;

const badQuery = (detail: string) => new DaemonError(400, 'observations', 'invalid_query', detail);
const msParam = (name: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw badQuery(`${name} must be a non-negative integer (milliseconds)`);
  return n;
};

export class ObservationsService implements ObservationsPort {
  readonly ctx: ObservationsContext;
  readonly sources: Sources;
  readonly ingress: Ingress;
  readonly capture: CaptureAgents;
  readonly materializer: Materializer;
  private timer: NodeJS.Timeout | null = null;
  private sweeping = false;

  constructor(ctx: ObservationsContext) {
    this.ctx = ctx;
    this.sources = new Sources(ctx);
    this.ingress = new Ingress(ctx);
    this.capture = new CaptureAgents(ctx);
    this.materializer = new Materializer(ctx);
  }

  async list(q: {
    source_id?: string;
    stream_id?: string;
    after_ms?: string;
    before_ms?: string;
    include_purged?: string;
    page?: string;
    cursor?: string;
    limit?: string;
  }) {
    if (q.stream_id !== undefined && q.source_id === undefined)
      throw badQuery('stream_id requires source_id: stream ids are scoped to one source');
    const page = parsePage(q);
    let after: { received_at_ms: number; observation_id: string } | undefined;
    if (page.after !== undefined) {
      const [ms, id] = [
        page.after.slice(0, page.after.indexOf(':')),
        page.after.slice(page.after.indexOf(':') + 1),
      ];
      if (!/^\d+$/.test(ms) || !id)
        throw new DaemonError(
          400,
          'pagination',
          'invalid_cursor',
          'cursor is not one this daemon issued; start again without it',
        );
      after = { received_at_ms: Number(ms), observation_id: id };
    }
    const { rows, total } = await listObservations(this.ctx.store.db, {
      source_id: q.source_id,
      stream_id: q.stream_id,
      after_ms: msParam('after_ms', q.after_ms),
      before_ms: msParam('before_ms', q.before_ms),
      include_purged: q.include_purged === 'true' || q.include_purged === '1',
      after_key: after,
      order: 'asc',
      limit: fetchLimit(page) ?? 1_000_000,
    });
    return renderPage(page, rows.map(observationView), {
      total,
      keyOf: (o) => `${o.received_at_ms}:${o.observation_id}`,
      order: 'received_at_ms_asc',
    });
  }

  async getView(id: string): Promise<ObservationView> {
    const r = await getObservation(this.ctx.store.db, id);
    if (!r) throw observationNotFound(id);
    return observationView(r);
  }

  async audit(q: {
    source_id?: string;
    event?: string;
    machine_id?: string;
    limit?: string;
  }): Promise<ObservationAuditRecord[]> {
    let limit = AUDIT_DEFAULT_LIMIT;
    if (q.limit !== undefined) {
      const n = Number(q.limit);
      if (!Number.isInteger(n) || n <= 0)
        throw badQuery(`limit must be a whole number from 1 to ${AUDIT_MAX_LIMIT}`);
      limit = Math.min(n, AUDIT_MAX_LIMIT);
    }
    return (await listAudit(this.ctx.store.db, { ...q, limit })).map(auditView);
  }

  // ---------------------------------------------------------------- ObservationsPort

  async get(id: string): Promise<ObservationView | null> {
    const r = await getObservation(this.ctx.store.db, id);
    return r ? observationView(r) : null;
  }

  async sourceAllowsUse(id: string): Promise<boolean> {
    const r = await getObservation(this.ctx.store.db, id);
    const s = r && (await getSource(this.ctx.store.db, r.source_id));
    return !!s && s.allow_materialization === 1 && s.disabled_at_ms === null;
  }

  async setCanonicalTextAsset(id: string, assetId: string): Promise<boolean> {
    return this.ctx.store.write(async (tx) => {
      const r = await getObservation(tx.db, id);
      if (r?.retention_state !== 'active') return false;
      await setCanonicalTextAsset(tx.db, id, assetId);
      await this.ctx.assets().addReferences(
        [
          {
            asset_id: assetId,
            domain: 'observations',
            owner_id: id,
            role: 'canonical_text',
            hard: true,
            parent_id: r.source_id,
          },
        ],
        tx.db,
      );
      await appendAudit(tx.db, tx.now, [
        {
          event: 'canonical_text_attached',
          source_id: r.source_id,
          observation_id: id,
          detail: { asset_id: assetId },
        },
      ]);
      return true;
    });
  }

  checkScheduled(raw: unknown): Promise<MaterializationRequest> {
    return checkScheduled(this.ctx.store.db, raw);
  }

  materialize(
    body: MaterializationRequest,
    kind?: 'observation_materialization' | 'scheduled_observation_materialization',
  ) {
    return this.materializer.materialize(body, kind);
  }

  // ---------------------------------------------------------------- timer

  /** One pass: time-based retention, then heartbeat deadlines. Errors are logged, never thrown. */
  async tick(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const purged = await sweepExpired(this.ctx);
      const missing = await this.capture.sweepMissing();
      if (purged || missing)
        this.ctx.log.info({ purged, missing }, 'observation retention and heartbeat sweep');
    } catch (err) {
      this.ctx.log.warn({ err }, 'observation sweep failed; retrying at the next tick');
    } finally {
      this.sweeping = false;
    }
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.tick(), intervalMs);
    this.timer.unref();
    void this.tick();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
