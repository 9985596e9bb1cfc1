// Upload ingress (api-core §8.3): `POST /v1/observation-sources/{id}/observations` on the source's
// own bearer token. Order: token → body checks → idempotent replay → rate limit → bytes into the
// assets store → one transaction (row, hard asset references, budget purge, audit) that checks the
// replay and the rate limit again under the source's lock, so replicas agree (decision 233).
import { createHash } from 'node:crypto';
import { monotonicFactory } from 'ulid';
import { canonicalJson } from '../../engine/output-contract.ts';
import { DaemonError } from '../../errors/daemon-error.ts';
import {
  appendAudit,
  findByIdempotency,
  getSource,
  insertObservation,
  type ObservationRow,
  receivedSince,
  type SourceRow,
} from '../../store/repos/observations.ts';
import type { Executor } from '../../store/schema.ts';
import { agentAllowsUploads } from './capture-auth.ts';
import type { ObservationsContext } from './context.ts';
import { enforceBudget } from './retention.ts';
import { KIND_MEDIA, type ObservationView, type SourceKind, type UploadRequest } from './schema.ts';
import { tokenAccepted } from './sources.ts';
import { uploadUnauthorized } from './tokens.ts';
import { observationView } from './views.ts';

const ulid = monotonicFactory();
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const MEDIA_ALIASES: Record<string, string> = {
  'image/jpg': 'image/jpeg',
  'image/pjpeg': 'image/jpeg',
  'audio/x-wav': 'audio/wav',
  'audio/wave': 'audio/wav',
  'audio/vnd.wave': 'audio/wav',
};

const ingressError = (status: number, code: string, detail: string, headers?: Record<string, string>) =>
  new DaemonError(status, 'observation_ingress', code, detail, headers);

export const normalizeMedia = (m: string): string => {
  const bare = m.split(';')[0]!.trim().toLowerCase();
  return MEDIA_ALIASES[bare] ?? bare;
};

const sha256Hex = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

/** The daemon's fingerprint of an upload: what a replay must repeat exactly (bytes by digest). */
export function uploadFingerprint(sourceId: string, body: UploadRequest, contentSha: string): string {
  return sha256Hex(
    `kheish-observation-upload-v1\n${canonicalJson({
      source_id: sourceId,
      file_name: body.upload.file_name,
      media_type: normalizeMedia(body.upload.media_type),
      content_sha256: contentSha,
      captured_at_ms: body.captured_at_ms ?? null,
      stream_id: body.stream_id ?? null,
      seq_no: body.seq_no ?? null,
      canonical_text_sha256: body.canonical_text === undefined ? null : sha256Hex(body.canonical_text),
      metadata: body.metadata ?? null,
    })}`,
  );
}

export interface RateVerdict {
  limited: boolean;
  retry_after_ms: number;
}

/** Sliding window over accepted (non-replay) uploads: at most `burst` inside any `window_ms`. */
export async function rateVerdict(db: Executor, s: SourceRow, now: number): Promise<RateVerdict> {
  const window = s.ingest_rate_limit_window_ms;
  const hits = await receivedSince(db, s.source_id, now - window + 1);
  if (hits.length < s.ingest_rate_limit_burst) return { limited: false, retry_after_ms: 0 };
  // The upload that must leave the window before one more fits.
  const gate = hits[hits.length - s.ingest_rate_limit_burst]!;
  return { limited: true, retry_after_ms: Math.max(1, gate + window - now) };
}

const rateLimited = (retryAfterMs: number) =>
  new DaemonError(
    429,
    'observation_ingress',
    'rate_limited',
    `the source's upload rate limit is exhausted; retry_after_ms=${retryAfterMs}`,
    { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) },
    { retry_after_ms: retryAfterMs },
  );

type Outcome =
  | { kind: 'created' | 'replayed'; row: ObservationRow }
  | { kind: 'conflict'; existing: ObservationRow }
  | { kind: 'limited'; retry_after_ms: number };

export class Ingress {
  private readonly ctx: ObservationsContext;
  constructor(ctx: ObservationsContext) {
    this.ctx = ctx;
  }

  private audit(event: string, sourceId: string, detail: Record<string, unknown>, observationId?: string) {
    return this.ctx.store.write((tx) =>
      appendAudit(tx.db, tx.now, [
        { event, source_id: sourceId, observation_id: observationId ?? null, detail },
      ]),
    );
  }

  /** The token check alone (before the body is validated: strangers learn nothing about bodies). */
  async authorize(sourceId: string, token: string | null): Promise<void> {
    const db = this.ctx.store.db;
    const source = await getSource(db, sourceId);
    if (
      source &&
      token !== null &&
      tokenAccepted(source, token, Date.now()) &&
      (await agentAllowsUploads(db, source))
    )
      return;
    if (source) await this.audit('upload_rejected', sourceId, { reason: 'unauthorized' });
    throw uploadUnauthorized();
  }

  /** 201 with the new observation, 200 with the existing one on a replay. */
  async upload(
    sourceId: string,
    token: string | null,
    body: UploadRequest,
  ): Promise<{ created: boolean; view: ObservationView }> {
    const db = this.ctx.store.db;
    const source = await getSource(db, sourceId);
    const now = Date.now();
    if (
      !source ||
      token === null ||
      !tokenAccepted(source, token, now) ||
      !(await agentAllowsUploads(db, source))
    ) {
      if (source) await this.audit('upload_rejected', sourceId, { reason: 'unauthorized' });
      throw uploadUnauthorized();
    }
    const media = normalizeMedia(body.upload.media_type);
    const accepted = KIND_MEDIA[source.kind as SourceKind] ?? [];
    if (!accepted.includes(media)) {
      await this.audit('upload_rejected', sourceId, { reason: 'unsupported_media_type', media_type: media });
      throw ingressError(
        400,
        'unsupported_media_type',
        `a ${source.kind} source accepts ${accepted.join(', ')}, not ${media}`,
      );
    }
    const b64 = body.upload.content_base64.replace(/\s+/g, '');
    if (b64.length % 4 === 1 || !BASE64.test(b64)) {
      await this.audit('upload_rejected', sourceId, { reason: 'invalid_base64' });
      throw ingressError(400, 'invalid_upload', 'upload.content_base64 is not valid base64');
    }
    const bytes = Buffer.from(b64, 'base64');
    if (bytes.length === 0) throw ingressError(400, 'invalid_upload', 'the upload is empty');
    if (bytes.length > source.max_active_bytes) {
      await this.audit('upload_rejected', sourceId, {
        reason: 'larger_than_byte_budget',
        byte_length: bytes.length,
      });
      throw ingressError(
        413,
        'observation_too_large',
        `the upload (${bytes.length} bytes) is larger than the source's max_active_bytes (${source.max_active_bytes})`,
      );
    }
    const fingerprint = uploadFingerprint(sourceId, body, sha256Hex(bytes));

    // Cheap refusals before any bytes are stored; the transaction below decides for real.
    const seen = await findByIdempotency(db, sourceId, body.idempotency_key);
    if (seen)
      return this.settle(
        seen.request_fingerprint === fingerprint
          ? { kind: 'replayed', row: seen }
          : { kind: 'conflict', existing: seen },
        sourceId,
      );
    const early = await rateVerdict(db, source, now);
    if (early.limited)
      return this.settle({ kind: 'limited', retry_after_ms: early.retry_after_ms }, sourceId);

    const assets = this.ctx.assets();
    let raw: Awaited<ReturnType<typeof assets.import>>;
    let text: typeof raw | null;
    try {
      raw = await assets.import({
        file_name: body.upload.file_name,
        media_type: media,
        bytes,
        accept: accepted,
      });
      text =
        body.canonical_text === undefined
          ? null
          : await assets.import({
              file_name: `${body.upload.file_name}.canonical.txt`,
              media_type: 'text/plain',
              bytes: Buffer.from(body.canonical_text, 'utf8'),
            });
    } catch (err) {
      // The asset store judged the bytes (content sniffing, limits): an ingress refusal, audited.
      if (!(err instanceof DaemonError) || err.status !== 400) throw err;
      await this.audit('upload_rejected', sourceId, { reason: err.code });
      throw ingressError(400, 'invalid_upload', `the upload was refused by the asset store: ${err.detail}`);
    }

    const outcome = await this.ctx.store.write<Outcome>(async (tx) => {
      const s = await getSource(tx.db, sourceId, { lock: true, postgres: this.ctx.postgres });
      if (!s || !tokenAccepted(s, token, tx.now)) throw uploadUnauthorized();
      const existing = await findByIdempotency(tx.db, sourceId, body.idempotency_key);
      if (existing)
        return existing.request_fingerprint === fingerprint
          ? { kind: 'replayed', row: existing }
          : { kind: 'conflict', existing };
      const verdict = await rateVerdict(tx.db, s, tx.now);
      if (verdict.limited) return { kind: 'limited', retry_after_ms: verdict.retry_after_ms };
      const metadata = body.metadata ?? {};
      const group = typeof metadata.capture_group_id === 'string' ? metadata.capture_group_id : null;
      const row: ObservationRow = {
        observation_id: `observation-${ulid().toLowerCase()}`,
        source_id: sourceId,
        kind: s.kind,
        sensitivity: s.sensitivity,
        retention_state: 'active',
        asset_id: raw.asset_id,
        canonical_text_asset_id: text?.asset_id ?? null,
        media_type: raw.media_type,
        sha256: raw.sha256,
        byte_length: raw.byte_length,
        captured_at_ms: body.captured_at_ms ?? tx.now,
        received_at_ms: tx.now,
        stream_id: body.stream_id ?? null,
        seq_no: body.seq_no ?? null,
        idempotency_key: body.idempotency_key,
        request_fingerprint: fingerprint,
        metadata: JSON.stringify(metadata),
        capture_group_id: group,
        purged_at_ms: null,
        purge_reason: null,
      };
      await insertObservation(tx.db, row);
      const ref = { domain: 'observations', owner_id: row.observation_id, hard: true, parent_id: sourceId };
      await assets.addReferences(
        [
          { ...ref, asset_id: raw.asset_id, role: 'raw_asset' },
          ...(text ? [{ ...ref, asset_id: text.asset_id, role: 'canonical_text' }] : []),
        ],
        tx.db,
      );
      await appendAudit(tx.db, tx.now, [
        {
          event: 'upload_accepted',
          source_id: sourceId,
          observation_id: row.observation_id,
          detail: { media_type: row.media_type, byte_length: row.byte_length, sha256: row.sha256 },
        },
      ]);
      await enforceBudget(this.ctx, tx, s);
      return { kind: 'created', row };
    }, 'ack');
    return this.settle(outcome, sourceId);
  }

  /** Turns a decision into the answer, auditing refusals and replays (without the literal key). */
  private async settle(o: Outcome, sourceId: string): Promise<{ created: boolean; view: ObservationView }> {
    switch (o.kind) {
      case 'created':
        return { created: true, view: observationView(o.row) };
      case 'replayed':
        await this.audit('upload_deduplicated', sourceId, {}, o.row.observation_id);
        return { created: false, view: observationView(o.row) };
      case 'conflict':
        await this.audit(
          'upload_rejected',
          sourceId,
          { reason: 'idempotency_conflict' },
          o.existing.observation_id,
        );
        throw ingressError(
          409,
          'idempotency_conflict',
          `this idempotency_key was already used for observation ${o.existing.observation_id} with a different upload`,
        );
      case 'limited':
        await this.audit('rate_limited', sourceId, { retry_after_ms: o.retry_after_ms });
        throw rateLimited(o.retry_after_ms);
    }
  }
}
