// Derivations API client calls (api-core §8.5): canonical text and visual previews of assets,
// observations and session input items, cached by the daemon per versioned key.
import type { DaemonClient } from './client.ts';
import type { JsonObject, ListResult, PageQuery } from './types.ts';

export type DerivationProfile = 'canonical_text' | 'visual_preview';

export type DerivationSubject =
  | { type: 'asset'; asset_id: string }
  | { type: 'observation'; observation_id: string }
  /** `offset`: the position of an item in the session's input items, counted from 0 (docs/derivations.md). */
  | { type: 'session_input'; session_id: string; offset: number };

export interface TranscriptionOptions {
  /** At most 2,000 characters once trimmed. */
  prompt?: string;
  /** A short language code, e.g. `en`. */
  language?: string;
  /** Needs the OpenAI `whisper-1` backend; the timings are stored as a JSON asset. */
  timestamp_granularities?: Array<'word' | 'segment'>;
}

export interface CreateDerivationRequest {
  profile: DerivationProfile;
  subject: DerivationSubject;
  transcription?: TranscriptionOptions;
}

export interface DerivationBackend extends JsonObject {
  kind: string;
  route_id: string;
  provider: string;
  model: string;
  pipeline_version: number;
  stitching_strategy: string;
  part_count: number;
  timestamp_asset_id?: string;
}

export interface DerivationView extends JsonObject {
  derivation_id: string;
  profile: DerivationProfile;
  subject: DerivationSubject & JsonObject;
  result_asset_id: string | null;
  reused_subject_asset: boolean;
  created_at_ms: number;
  status: 'completed' | 'failed';
  profile_version: number;
  source_fingerprint: string;
  backend?: DerivationBackend;
  error?: string;
  /** Only on create: `miss` when this call made the record, `hit` when it reused one. */
  cache_status?: 'miss' | 'hit';
}

export interface CreateDerivationFlags {
  /** Recompute even when a cached record exists; a completed recompute becomes the cached one. */
  force_refresh?: boolean;
  /** Recompute only when the cached record failed. */
  retry_failed?: boolean;
}

const enc = encodeURIComponent;

export class DerivationsResource {
  private readonly http: DaemonClient;

  constructor(http: DaemonClient) {
    this.http = http;
  }

  /** GET /v1/derivations: legacy array, or the page envelope (derivation_id_asc). */
  list(query: PageQuery & { query?: string } = {}): Promise<ListResult<DerivationView>> {
    return this.http.request('GET', '/v1/derivations', { query: { ...query } }) as Promise<
      ListResult<DerivationView>
    >;
  }

  /** POST /v1/derivations: the cached record (`hit`) or a new one (`miss`). */
  create(body: CreateDerivationRequest, flags: CreateDerivationFlags = {}): Promise<DerivationView> {
    const query: Record<string, string> = {};
    if (flags.force_refresh) query.force_refresh = 'true';
    if (flags.retry_failed) query.retry_failed = 'true';
    return this.http.request('POST', '/v1/derivations', { body, query }) as Promise<DerivationView>;
  }

  get(derivationId: string): Promise<DerivationView> {
    return this.http.request('GET', `/v1/derivations/${enc(derivationId)}`) as Promise<DerivationView>;
  }
}
