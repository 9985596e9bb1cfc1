// Assets API client calls (api-core §7): import bytes, inspect views and references, read the exact
// bytes (admin token), plan or execute deletes and GC.
import type { DaemonClient } from './client.ts';
import type { JsonObject, ListResult, PageQuery } from './types.ts';

export interface AssetSummaryView extends JsonObject {
  asset_id: string;
  media_type: string;
  file_name: string;
  sha256: string;
  byte_length: number;
  created_at_ms: number;
}

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

export interface AssetReference extends JsonObject {
  domain: string;
  owner_id: string;
  role: string;
  hard: boolean;
  parent_id?: string;
  detail_id?: string;
}

export interface AssetReferencesView extends JsonObject {
  asset_id: string;
  hard_reference_count: number;
  soft_reference_count: number;
  references: AssetReference[];
}

export interface AssetPayloadFile extends JsonObject {
  kind: string;
  uri: string;
  sha256: string;
  byte_length: number;
  location: string;
}

export interface AssetDeletePlan extends AssetReferencesView {
  dry_run: boolean;
  blocked: boolean;
  deleted: boolean;
  reclaimable_bytes: number;
  removable_files: AssetPayloadFile[];
  shared_files: AssetPayloadFile[];
}

export interface AssetGcReport extends JsonObject {
  dry_run: boolean;
  candidate_asset_ids: string[];
  deleted_asset_ids: string[];
  blocked: Array<{ asset_id: string; hard_reference_count: number }>;
  orphan_payloads: Array<{ sha256: string; byte_length: number; location: string }>;
  removed_orphan_payload_count: number;
  reclaimable_bytes: number;
  reclaimed_bytes: number;
}

export interface ImportAssetRequest {
  file_name: string;
  /** Parameters (`;codecs=`) are stripped and aliases normalized by the daemon. */
  media_type?: string;
  /** The bytes; sent as `content_base64`. */
  content: Uint8Array;
}

/** The exact stored bytes and how the daemon labels them. */
export interface AssetRaw {
  media_type: string;
  content_disposition: string;
  bytes: Uint8Array;
}

const enc = encodeURIComponent;

/** Base64 without Node's Buffer, so the SDK also runs in a browser. */
export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000)
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

export class AssetsResource {
  private readonly http: DaemonClient;

  constructor(http: DaemonClient) {
    this.http = http;
  }

  /** GET /v1/assets: `query` matches id, file name, media type, digest or derivation id. */
  list(query: PageQuery & { query?: string } = {}): Promise<ListResult<AssetSummaryView>> {
    return this.http.request('GET', '/v1/assets', { query: { ...query } }) as Promise<
      ListResult<AssetSummaryView>
    >;
  }

  /** POST /v1/assets: identical bytes of the same media type return the existing asset. */
  import(req: ImportAssetRequest): Promise<AssetView> {
    return this.http.request('POST', '/v1/assets', {
      body: {
        file_name: req.file_name,
        ...(req.media_type !== undefined ? { media_type: req.media_type } : {}),
        content_base64: toBase64(req.content),
      },
    }) as Promise<AssetView>;
  }

  get(assetId: string): Promise<AssetView> {
    return this.http.request('GET', `/v1/assets/${enc(assetId)}`) as Promise<AssetView>;
  }

  references(assetId: string): Promise<AssetReferencesView> {
    return this.http.request('GET', `/v1/assets/${enc(assetId)}/references`) as Promise<AssetReferencesView>;
  }

  /** GET /v1/assets/{id}/raw (admin token): re-verified by the daemon (409 asset_integrity_mismatch). */
  async raw(assetId: string): Promise<AssetRaw> {
    const res = await this.http.send('GET', `/v1/assets/${enc(assetId)}/raw`, {
      headers: { accept: '*/*' },
    });
    return {
      media_type: res.headers.get('content-type') ?? 'application/octet-stream',
      content_disposition: res.headers.get('content-disposition') ?? '',
      bytes: new Uint8Array(await res.arrayBuffer()),
    };
  }

  /** DELETE /v1/assets/{id}: `dry_run` returns the plan only; hard references throw 409 asset_delete_blocked. */
  delete(assetId: string, opts: { dry_run?: boolean } = {}): Promise<AssetDeletePlan> {
    return this.http.request('DELETE', `/v1/assets/${enc(assetId)}`, {
      query: { dry_run: opts.dry_run ? 'true' : undefined },
    }) as Promise<AssetDeletePlan>;
  }

  /** POST /v1/assets/gc: a plan unless `dry_run: false`. */
  gc(opts: { dry_run?: boolean } = {}): Promise<AssetGcReport> {
    return this.http.request('POST', '/v1/assets/gc', {
      body: { dry_run: opts.dry_run ?? true },
    }) as Promise<AssetGcReport>;
  }
}
