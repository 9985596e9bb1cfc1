// What other features use of the assets store (api-core §7), asked for as `k.use<AssetsPort>('assets')`.
// Runs (multimodal input, generator tools, emit_output), observations and derivations all keep
// their bytes here and say who points at an asset through references, so deletion and GC can tell
// what is still needed. The assets feature owns the tables, the byte storage and the validation.
import type { Executor } from '../../store/schema.ts';

/** `GET /v1/assets` rows. */
export interface AssetSummaryView {
  asset_id: string;
  media_type: string;
  file_name: string;
  sha256: string;
  byte_length: number;
  created_at_ms: number;
}

/** `GET /v1/assets/{id}`: the summary plus derived text, preview and derivations. */
export interface AssetView extends AssetSummaryView {
  uri: string;
  text_uri: string | null;
  text_sha256: string | null;
  text_byte_length: number | null;
  preview_image_uri: string | null;
  preview_image_media_type: string | null;
  preview_image_sha256: string | null;
  preview_image_byte_length: number | null;
  derivation_ids: string[];
}

export interface AssetImport {
  file_name: string;
  /** As declared by the caller; parameters (`;codecs=`) are stripped and aliases normalized. */
  media_type?: string;
  bytes: Uint8Array;
  /**
   * A narrower list of normalized media types this caller accepts (an observation source's kind);
   * anything else is refused before storage with `400 assets/unsupported_media_type`.
   */
  accept?: readonly string[];
}

/** One edge of the reference graph (`GET /v1/assets/{id}/references`). */
export interface AssetReference {
  asset_id: string;
  /** The owning domain: `runs`, `sessions`, `observations`, `derivations`, `assets`, … */
  domain: string;
  owner_id: string;
  /** e.g. `input_attachment`, `output_attachment`, `raw_asset`, `canonical_text`, `subject`, `result`. */
  role: string;
  /** Hard references block deletion and GC; soft ones are lineage only. */
  hard: boolean;
  parent_id?: string | null;
  detail_id?: string | null;
}

export interface AssetsPort {
  /**
   * Validates by content, normalizes, stores the bytes durably (fsynced, or in the database on
   * PostgreSQL) before the row, and returns the asset; identical (media type, digest) imports
   * return the existing asset. Throws a 400 DaemonError (domain `assets`) for bad or over-limit input.
   */
  import(input: AssetImport, signal?: AbortSignal): Promise<AssetView>;
  /** Null when unknown or deleted. */
  get(assetId: string): Promise<AssetView | null>;
  /**
   * The exact stored bytes, re-verified: `404 assets/asset_not_found`, `409 assets/asset_integrity_mismatch`.
   * Inside a write transaction pass its executor (on SQLite the store's own handle waits for it).
   */
  readRaw(assetId: string, db?: Executor): Promise<Uint8Array>;
  /** Derived text (documents, transcripts), re-verified; null when the asset has none. */
  readText(assetId: string): Promise<string | null>;
  /** Derived preview image (DXF), re-verified; null when the asset has none. */
  readPreview(assetId: string): Promise<{ media_type: string; bytes: Uint8Array } | null>;
  /**
   * Adds references (idempotent per asset, domain, owner, role). Pass the caller's transaction so
   * the reference commits with the row that needs it (a run's input, an observation).
   */
  addReferences(refs: AssetReference[], db?: Executor): Promise<void>;
  /** Turns matching references soft or hard (purged observation lineage becomes soft). */
  setReferencesHard(
    match: { domain: string; owner_id: string; role?: string },
    hard: boolean,
    detailId?: string | null,
    db?: Executor,
  ): Promise<void>;
  /** Removes the references an owner holds (all roles, or one). */
  removeReferences(match: { domain: string; owner_id: string; role?: string }, db?: Executor): Promise<void>;
  /**
   * Drops the `runs` references of terminal runs finished before `finished_before_ms` (a prune with
   * `release_assets`), so GC may take assets only old runs held; their journals then render an
   * "[asset no longer available]" notice where the asset was. Dry run: reports only.
   */
  releaseRunReferences(
    q: { finished_before_ms: number; session_id?: string; limit?: number; dry_run: boolean },
    db?: Executor,
  ): Promise<{ run_ids: string[]; reference_count: number }>;
  /** Attaches derived text (a transcript asset's text) to an asset after the fact. */
  setDerivedText(assetId: string, text: string): Promise<AssetView>;
}
