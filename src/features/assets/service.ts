// The asset store (api-core §7): validates and normalizes uploads (media/), keeps their payloads by
// digest (payload-store.ts) before the catalog row that names them commits, dedupes by (media type,
// digest), re-verifies every payload it hands out, and keeps the reference graph other domains use
// to say what they still need. Deletion, GC and start-up repair are in reclaim.ts.
import { createHash } from 'node:crypto';
import { monotonicFactory } from 'ulid';
import { DaemonError } from '../../errors/daemon-error.ts';
import type { EventLog } from '../../store/event-log.ts';
import {
  type AssetReferenceRow,
  type AssetRow,
  deleteOwnersReferences,
  deleteReferences,
  findAssetByDigest,
  getAsset,
  insertAsset,
  listAssets,
  lockAsset,
  lockPayloads,
  referencesOf,
  setAssetText,
  setReferencesHard,
  terminalRunsHoldingAssets,
  upsertReferences,
} from '../../store/repos/assets.ts';
import type { Executor } from '../../store/schema.ts';
import type { Store, WriteTx } from '../../store/store.ts';
import { assetEvent } from './events.ts';
import { normalizeMedia } from './media/index.ts';
import type { DigestLocks, PayloadStore } from './payload-store.ts';
import type { AssetImport, AssetReference, AssetSummaryView, AssetsPort, AssetView } from './port.ts';
import type { AssetReclaimer } from './reclaim.ts';
import type { AssetReferencesView } from './schema.ts';

const ulid = monotonicFactory();

export const sha256Hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

export const assetNotFound = (id: string) =>
  new DaemonError(404, 'assets', 'asset_not_found', `asset ${id} was not found`);

export const integrityMismatch = (id: string, what: string) =>
  new DaemonError(
    409,
    'assets',
    'asset_integrity_mismatch',
    `the stored ${what} of asset ${id} no longer match their recorded length and SHA-256`,
  );

export const assetUri = (id: string, part: 'raw' | 'text' | 'preview'): string =>
  part === 'raw' ? `asset://${id}` : `asset://${id}/${part}`;

interface Payload {
  sha256: string;
  bytes: Uint8Array;
}

export class AssetsService implements AssetsPort {
  readonly store: Store;
  readonly payloads: PayloadStore;
  readonly locks: DigestLocks;
  /** Deletion, GC and start-up repair (set by the feature module). */
  reclaim!: AssetReclaimer;

  readonly events: EventLog;

  constructor(store: Store, payloads: PayloadStore, locks: DigestLocks, events: EventLog) {
    this.store = store;
    this.payloads = payloads;
    this.locks = locks;
    this.events = events;
  }

  summary(r: AssetRow): AssetSummaryView {
    return {
      asset_id: r.asset_id,
      media_type: r.media_type,
      file_name: r.file_name,
      sha256: r.sha256,
      byte_length: r.byte_length,
      created_at_ms: r.created_at_ms,
    };
  }

  async view(r: AssetRow, db: Executor = this.store.db): Promise<AssetView> {
    const refs = await referencesOf(db, r.asset_id);
    const derivations = refs.filter((x) => x.domain === 'derivations' && x.role === 'result');
    return {
      ...this.summary(r),
      uri: assetUri(r.asset_id, 'raw'),
      text_uri: r.text_sha256 ? assetUri(r.asset_id, 'text') : null,
      text_sha256: r.text_sha256,
      text_byte_length: r.text_byte_length,
      preview_image_uri: r.preview_sha256 ? assetUri(r.asset_id, 'preview') : null,
      preview_image_media_type: r.preview_sha256 ? r.preview_media_type : null,
      preview_image_sha256: r.preview_sha256,
      preview_image_byte_length: r.preview_byte_length,
      derivation_ids: [...new Set(derivations.map((x) => x.owner_id))],
    };
  }

  /** Stores payloads (files first, database rows inside `write`) with their digests locked throughout. */
  private async withPayloads<T>(
    payloads: Payload[],
    write: (db: Executor, now: number, tx: WriteTx) => Promise<T>,
  ): Promise<T> {
    // Plain text's derived text is its raw bytes: one payload, written once.
    const unique = [...new Map(payloads.map((p) => [p.sha256, p])).values()];
    const digests = unique.map((p) => p.sha256);
    const release = await this.locks.acquire(digests);
    try {
      for (const p of unique) await this.payloads.stage(p.sha256, p.bytes);
      return await this.store.write(async (tx) => {
        await lockPayloads(tx.db, digests);
        for (const p of unique) await this.payloads.attach(tx.db, p.sha256, p.bytes, tx.now);
        return write(tx.db, tx.now, tx);
      });
    } finally {
      release();
    }
  }

  /** The import, and whether it made a new asset (201) or found an identical one (200). */
  async importAsset(
    input: AssetImport,
    signal?: AbortSignal,
  ): Promise<{ view: AssetView; created: boolean }> {
    const fileName = input.file_name.trim();
    if (fileName === '' || [...fileName].some((c) => c < ' ' || c === '\u007f'))
      throw new DaemonError(
        400,
        'assets',
        'invalid_asset_request',
        'file_name must be non-empty and without control characters',
      );
    const norm = await normalizeMedia(
      { file_name: fileName, media_type: input.media_type, bytes: input.bytes },
      signal,
    );
    if (input.accept && !input.accept.includes(norm.media_type))
      throw new DaemonError(
        400,
        'assets',
        'unsupported_media_type',
        `media type ${norm.media_type} is not accepted here (accepted: ${input.accept.join(', ')})`,
      );
    signal?.throwIfAborted();
    // The raw payload is always the exact upload (admin raw reads round-trip); a re-encoded image
    // is the preview, which is what models are sent (decision 193).
    const raw = input.bytes;
    const rawPayload = { sha256: sha256Hex(raw), bytes: raw };
    const textBytes = norm.text === undefined ? null : new TextEncoder().encode(norm.text);
    const text = textBytes && { sha256: sha256Hex(textBytes), bytes: textBytes };
    const preview = norm.preview && { sha256: sha256Hex(norm.preview.bytes), bytes: norm.preview.bytes };
    const all = [rawPayload, ...(text ? [text] : []), ...(preview ? [preview] : [])];
    const { row, created } = await this.withPayloads(all, async (db, now, tx) => {
      const fresh: AssetRow = {
        asset_id: `asset-${ulid().toLowerCase()}`,
        media_type: norm.media_type,
        file_name: fileName,
        sha256: rawPayload.sha256,
        byte_length: raw.byteLength,
        created_at_ms: now,
        text_sha256: text?.sha256 ?? null,
        text_byte_length: text?.bytes.byteLength ?? null,
        preview_media_type: norm.preview?.media_type ?? null,
        preview_sha256: preview?.sha256 ?? null,
        preview_byte_length: preview?.bytes.byteLength ?? null,
      };
      if (await insertAsset(db, fresh)) {
        await this.events.append(tx, [assetEvent(fresh, 'created')]);
        return { row: fresh, created: true };
      }
      const existing = await findAssetByDigest(db, norm.media_type, rawPayload.sha256);
      if (!existing) throw new Error('an asset with this digest was neither inserted nor found');
      return { row: existing, created: false };
    });
    return { view: await this.view(row), created };
  }

  async import(input: AssetImport, signal?: AbortSignal): Promise<AssetView> {
    return (await this.importAsset(input, signal)).view;
  }

  async get(assetId: string): Promise<AssetView | null> {
    const r = await getAsset(this.store.db, assetId);
    return r ? this.view(r) : null;
  }

  async getOrThrow(assetId: string): Promise<AssetView> {
    const v = await this.get(assetId);
    if (!v) throw assetNotFound(assetId);
    return v;
  }

  async row(assetId: string, db: Executor = this.store.db): Promise<AssetRow> {
    const r = await getAsset(db, assetId);
    if (!r) throw assetNotFound(assetId);
    return r;
  }

  async list(q: { query?: string; after?: string; limit?: number }) {
    const { rows, total } = await listAssets(this.store.db, {
      query: q.query?.trim() || undefined,
      after_id: q.after,
      limit: q.limit ?? 1_000_000,
    });
    return { items: rows.map((r) => this.summary(r)), total };
  }

  async references(assetId: string): Promise<AssetReferencesView> {
    const r = await this.row(assetId);
    return referencesView(r.asset_id, await referencesOf(this.store.db, r.asset_id));
  }

  /** A payload's bytes, checked against the length and digest the row recorded. */
  private async verified(
    assetId: string,
    sha256: string,
    length: number,
    what: string,
    db: Executor = this.store.db,
  ): Promise<Buffer> {
    const bytes = await this.payloads.read(sha256);
    if (bytes && bytes.byteLength === length && sha256Hex(bytes) === sha256) return bytes;
    // Gone because the asset was deleted meanwhile (rows go before files): not found, not tampered.
    if (!(await getAsset(db, assetId))) throw assetNotFound(assetId);
    throw integrityMismatch(assetId, what);
  }

  async readRaw(assetId: string, db?: Executor): Promise<Uint8Array> {
    const r = await this.row(assetId, db);
    return this.verified(r.asset_id, r.sha256, r.byte_length, 'raw bytes', db);
  }

  async readRawWithRow(assetId: string): Promise<{ row: AssetRow; bytes: Buffer }> {
    const row = await this.row(assetId);
    return { row, bytes: await this.verified(row.asset_id, row.sha256, row.byte_length, 'raw bytes') };
  }

  async readText(assetId: string): Promise<string | null> {
    const r = await this.row(assetId);
    if (!r.text_sha256 || r.text_byte_length === null) return null;
    const bytes = await this.verified(r.asset_id, r.text_sha256, r.text_byte_length, 'derived text');
    return new TextDecoder().decode(bytes);
  }

  async readPreview(assetId: string): Promise<{ media_type: string; bytes: Uint8Array } | null> {
    const r = await this.row(assetId);
    if (!r.preview_sha256 || r.preview_byte_length === null || !r.preview_media_type) return null;
    const bytes = await this.verified(r.asset_id, r.preview_sha256, r.preview_byte_length, 'preview bytes');
    return { media_type: r.preview_media_type, bytes };
  }

  /**
   * In the caller's transaction when given, so a run's input and its reference commit together.
   * The asset row is share-locked (PostgreSQL) so a concurrent delete either sees the reference or
   * removes the asset first, in which case this answers 404 and the caller's transaction fails.
   */
  async addReferences(refs: AssetReference[], db?: Executor): Promise<void> {
    if (!refs.length) return;
    const apply = async (ex: Executor, now: number) => {
      for (const id of new Set(refs.map((r) => r.asset_id)))
        if (!(await lockAsset(ex, id, 'share'))) throw assetNotFound(id);
      await upsertReferences(
        ex,
        refs.map(
          (r): AssetReferenceRow => ({
            asset_id: r.asset_id,
            domain: r.domain,
            owner_id: r.owner_id,
            role: r.role,
            hard: r.hard ? 1 : 0,
            parent_id: r.parent_id ?? null,
            detail_id: r.detail_id ?? null,
            created_at_ms: now,
          }),
        ),
      );
    };
    if (db) await apply(db, Date.now());
    else await this.store.write((tx) => apply(tx.db, tx.now));
  }

  async setReferencesHard(
    match: { domain: string; owner_id: string; role?: string },
    hard: boolean,
    detailId?: string | null,
    db?: Executor,
  ): Promise<void> {
    if (db) await setReferencesHard(db, match, hard, detailId);
    else await this.store.write((tx) => setReferencesHard(tx.db, match, hard, detailId));
  }

  async removeReferences(
    match: { domain: string; owner_id: string; role?: string },
    db?: Executor,
  ): Promise<void> {
    if (db) await deleteReferences(db, match);
    else await this.store.write((tx) => deleteReferences(tx.db, match));
  }

  async releaseRunReferences(
    q: { finished_before_ms: number; session_id?: string; limit?: number; dry_run: boolean },
    db?: Executor,
  ): Promise<{ run_ids: string[]; reference_count: number }> {
    const apply = async (ex: Executor) => {
      const runs = await terminalRunsHoldingAssets(ex, {
        cutoffMs: q.finished_before_ms,
        ...(q.session_id !== undefined ? { sessionId: q.session_id } : {}),
        ...(q.limit !== undefined ? { limit: q.limit } : {}),
      });
      const run_ids = runs.map((r) => r.run_id);
      if (!q.dry_run) await deleteOwnersReferences(ex, 'runs', run_ids);
      return { run_ids, reference_count: runs.reduce((n, r) => n + r.reference_count, 0) };
    };
    return db ? apply(db) : this.store.write((tx) => apply(tx.db));
  }

  /** The previous text payload, if no longer named, is left for GC (an orphan payload). */
  async setDerivedText(assetId: string, text: string): Promise<AssetView> {
    const bytes = new TextEncoder().encode(text);
    const payload = { sha256: sha256Hex(bytes), bytes };
    const row = await this.withPayloads([payload], async (db) => {
      const r = await lockAsset(db, assetId, 'update');
      if (!r) throw assetNotFound(assetId);
      await setAssetText(db, assetId, payload.sha256, bytes.byteLength);
      return { ...r, text_sha256: payload.sha256, text_byte_length: bytes.byteLength };
    });
    return this.view(row);
  }
}

export function referencesView(assetId: string, refs: AssetReferenceRow[]): AssetReferencesView {
  const hard = refs.filter((r) => r.hard === 1).length;
  return {
    asset_id: assetId,
    hard_reference_count: hard,
    soft_reference_count: refs.length - hard,
    references: refs.map((r) => ({
      domain: r.domain,
      owner_id: r.owner_id,
      role: r.role,
      hard: r.hard === 1,
      ...(r.parent_id !== null ? { parent_id: r.parent_id } : {}),
      ...(r.detail_id !== null ? { detail_id: r.detail_id } : {}),
    })),
  };
}
