// Observation sources (api-core §8.2): create (or recreate), read, token rotation with a grace
// window, token revocation. The upload token is kept only as a digest and never rendered.
import { monotonicFactory } from 'ulid';
import { DaemonError } from '../../errors/daemon-error.ts';
import {
  appendAudit,
  getSource,
  insertSource,
  listSources,
  type SourceRow,
  updateSource,
} from '../../store/repos/observations.ts';
import type { WriteTx } from '../../store/store.ts';
import { captureOwned, invalidSource, type ObservationsContext, sourceNotFound } from './context.ts';
import {
  type CreateSourceRequest,
  KIND_MEDIA,
  type ObservationSourceView,
  type RotateTokenRequest,
  SOURCE_DEFAULTS,
  type SourceKind,
} from './schema.ts';
import { digestMatches, sanitizeReason, tokenDigest } from './tokens.ts';

const ulid = monotonicFactory();
const SOURCE_ID = /^[A-Za-z0-9._-]+$/;

export function checkSourceId(id: string): void {
  if (!SOURCE_ID.test(id) || Buffer.byteLength(id) > 128 || /^\.+$/.test(id))
    throw invalidSource(
      'source_id allows ASCII letters, digits, ".", "_" and "-", up to 128 bytes (not "." or "..")',
    );
}

export function sourceView(r: SourceRow): ObservationSourceView {
  return {
    source_id: r.source_id,
    display_name: r.display_name,
    kind: r.kind,
    accepted_media_types: [...(KIND_MEDIA[r.kind as SourceKind] ?? [])],
    sensitivity: r.sensitivity,
    retention_seconds: r.retention_seconds,
    max_active_observations: r.max_active_observations,
    max_active_bytes: r.max_active_bytes,
    ingest_rate_limit_window_ms: r.ingest_rate_limit_window_ms,
    ingest_rate_limit_burst: r.ingest_rate_limit_burst,
    purge_raw_on_retention: r.purge_raw_on_retention === 1,
    allow_materialization: r.allow_materialization === 1,
    allow_output_delivery: r.allow_output_delivery === 1,
    upload_token_version: r.upload_token_version,
    upload_token_state: r.token_digest ? 'active' : 'revoked',
    upload_token_issued_at_ms: r.token_issued_at_ms,
    upload_token_expires_at_ms: r.token_expires_at_ms,
    previous_token_valid_until_ms: r.previous_token_digest ? r.previous_token_valid_until_ms : null,
    capture_owned: r.capture_machine_id !== null,
    capture_machine_id: r.capture_machine_id,
    disabled: r.disabled_at_ms !== null,
    disabled_at_ms: r.disabled_at_ms,
    created_at_ms: r.created_at_ms,
    updated_at_ms: r.updated_at_ms,
  };
}

const bit = (v: boolean | undefined, dflt: boolean): number => ((v ?? dflt) ? 1 : 0);

/** The settings of a create request, defaults applied (shared with capture provisioning). */
export function sourceSettings(body: Omit<CreateSourceRequest, 'upload_token' | 'source_id'>) {
  return {
    display_name: body.display_name,
    kind: body.kind,
    sensitivity: body.sensitivity ?? SOURCE_DEFAULTS.sensitivity,
    retention_seconds: body.retention_seconds ?? SOURCE_DEFAULTS.retention_seconds,
    max_active_observations: body.max_active_observations ?? SOURCE_DEFAULTS.max_active_observations,
    max_active_bytes: body.max_active_bytes ?? SOURCE_DEFAULTS.max_active_bytes,
    ingest_rate_limit_window_ms:
      body.ingest_rate_limit_window_ms ?? SOURCE_DEFAULTS.ingest_rate_limit_window_ms,
    ingest_rate_limit_burst: body.ingest_rate_limit_burst ?? SOURCE_DEFAULTS.ingest_rate_limit_burst,
    purge_raw_on_retention: bit(body.purge_raw_on_retention, SOURCE_DEFAULTS.purge_raw_on_retention),
    allow_materialization: bit(body.allow_materialization, SOURCE_DEFAULTS.allow_materialization),
    allow_output_delivery: bit(body.allow_output_delivery, SOURCE_DEFAULTS.allow_output_delivery),
  };
}

export class Sources {
  private readonly ctx: ObservationsContext;
  constructor(ctx: ObservationsContext) {
    this.ctx = ctx;
  }

  /**
   * Creates a source (201) or, for an existing generic source, replaces its settings (200). A new
   * token bumps `upload_token_version` at once and the old one stops working (no grace).
   */
  async create(body: CreateSourceRequest): Promise<{ created: boolean; view: ObservationSourceView }> {
    const id = body.source_id ?? `source-${ulid().toLowerCase()}`;
    checkSourceId(id);
    const settings = sourceSettings(body);
    const digest = tokenDigest(body.upload_token);
    return this.ctx.store.write(async (tx) => {
      const existing = await getSource(tx.db, id, { lock: true, postgres: this.ctx.postgres });
      if (!existing) {
        const row: SourceRow = {
          source_id: id,
          ...settings,
          token_digest: digest,
          upload_token_version: 1,
          token_issued_at_ms: tx.now,
          token_expires_at_ms: null,
          previous_token_digest: null,
          previous_token_valid_until_ms: null,
          token_revoked_at_ms: null,
          capture_machine_id: null,
          disabled_at_ms: null,
          disabled_reason: null,
          created_at_ms: tx.now,
          updated_at_ms: tx.now,
        };
        await insertSource(tx.db, row);
        await appendAudit(tx.db, tx.now, [
          { event: 'source_created', source_id: id, detail: { kind: row.kind, upload_token_version: 1 } },
        ]);
        return { created: true, view: sourceView(row) };
      }
      if (existing.capture_machine_id) throw captureOwned(id, existing.capture_machine_id);
      if (existing.kind !== settings.kind)
        throw new DaemonError(
          409,
          'observations',
          'source_kind_conflict',
          `observation source ${id} has kind ${existing.kind}; its observations keep it, so create a new source for ${settings.kind}`,
        );
      const sameToken = digestMatches(body.upload_token, existing.token_digest);
      const patch: Partial<SourceRow> = { ...settings, updated_at_ms: tx.now };
      if (!sameToken) {
        Object.assign(patch, {
          token_digest: digest,
          upload_token_version: existing.upload_token_version + 1,
          token_issued_at_ms: tx.now,
          previous_token_digest: null,
          previous_token_valid_until_ms: null,
          token_revoked_at_ms: null,
        });
      }
      await updateSource(tx.db, id, patch);
      const row = { ...existing, ...patch };
      await appendAudit(tx.db, tx.now, [
        {
          event: 'source_created',
          source_id: id,
          detail: {
            recreated: true,
            token_replaced: !sameToken,
            upload_token_version: row.upload_token_version,
          },
        },
      ]);
      return { created: false, view: sourceView(row) };
    });
  }

  async get(id: string): Promise<ObservationSourceView> {
    const r = await getSource(this.ctx.store.db, id);
    if (!r) throw sourceNotFound(id);
    return sourceView(r);
  }

  async list(query?: string): Promise<ObservationSourceView[]> {
    return (await listSources(this.ctx.store.db, query)).map(sourceView);
  }

  /** The previous token keeps working for `grace_period_ms` (none when 0 or omitted). */
  async rotate(id: string, body: RotateTokenRequest): Promise<ObservationSourceView> {
    return this.ctx.store.write(async (tx) => {
      const r = await this.generic(tx, id);
      const grace = body.grace_period_ms ?? 0;
      const keepPrevious = grace > 0 && r.token_digest !== null;
      const patch: Partial<SourceRow> = {
        token_digest: tokenDigest(body.upload_token),
        upload_token_version: r.upload_token_version + 1,
        token_issued_at_ms: tx.now,
        token_revoked_at_ms: null,
        previous_token_digest: keepPrevious ? r.token_digest : null,
        previous_token_valid_until_ms: keepPrevious ? tx.now + grace : null,
        updated_at_ms: tx.now,
      };
      await updateSource(tx.db, id, patch);
      await appendAudit(tx.db, tx.now, [
        {
          event: 'token_rotated',
          source_id: id,
          detail: { upload_token_version: patch.upload_token_version, grace_period_ms: grace },
        },
      ]);
      return sourceView({ ...r, ...patch });
    });
  }

  /** Revokes the current and any grace-window token; observations already stored stay. */
  async revoke(id: string, reason?: string): Promise<ObservationSourceView> {
    return this.ctx.store.write(async (tx) => {
      const r = await this.generic(tx, id);
      const patch: Partial<SourceRow> = {
        token_digest: null,
        previous_token_digest: null,
        previous_token_valid_until_ms: null,
        token_revoked_at_ms: tx.now,
        updated_at_ms: tx.now,
      };
      await updateSource(tx.db, id, patch);
      await appendAudit(tx.db, tx.now, [
        {
          event: 'token_revoked',
          source_id: id,
          detail: {
            upload_token_version: r.upload_token_version,
            reason: sanitizeReason(reason, 'operator_revoked'),
          },
        },
      ]);
      return sourceView({ ...r, ...patch });
    });
  }

  private async generic(tx: WriteTx, id: string): Promise<SourceRow> {
    const r = await getSource(tx.db, id, { lock: true, postgres: this.ctx.postgres });
    if (!r) throw sourceNotFound(id);
    if (r.capture_machine_id) throw captureOwned(id, r.capture_machine_id);
    return r;
  }
}

/** Whether `token` may upload to the source now (current token, or the previous one in its grace). */
export function tokenAccepted(r: SourceRow, token: string, now: number): boolean {
  if (r.disabled_at_ms !== null) return false;
  const current =
    digestMatches(token, r.token_digest) && (r.token_expires_at_ms === null || r.token_expires_at_ms > now);
  const previous =
    r.previous_token_valid_until_ms !== null &&
    r.previous_token_valid_until_ms > now &&
    digestMatches(token, r.previous_token_digest);
  return current || previous;
}
