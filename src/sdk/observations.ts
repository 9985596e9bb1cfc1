// Observations API client calls (api-core §8.1–8.4): sources and their upload tokens, upload on a
// source token, listing, audit, capture agents and alerts, and materialization into runs (now or
// on a schedule).
import type { DaemonClient } from './client.ts';
import { createSchedule, type ScheduleCreateRequest, type ScheduleView } from './schedules.ts';
import type { JsonObject, ListResult, PageQuery, RunView } from './types.ts';

export type SourceKind = 'screen_snapshot' | 'webcam_snapshot' | 'microphone_segment';

export interface ObservationSourceView extends JsonObject {
  source_id: string;
  display_name: string;
  kind: SourceKind;
  accepted_media_types: string[];
  sensitivity: string;
  retention_seconds: number;
  max_active_observations: number;
  max_active_bytes: number;
  ingest_rate_limit_window_ms: number;
  ingest_rate_limit_burst: number;
  purge_raw_on_retention: boolean;
  allow_materialization: boolean;
  allow_output_delivery: boolean;
  upload_token_version: number;
  upload_token_state: 'active' | 'revoked';
  previous_token_valid_until_ms: number | null;
  capture_owned: boolean;
  capture_machine_id: string | null;
  disabled: boolean;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface CreateSourceRequest {
  source_id?: string;
  display_name: string;
  kind: SourceKind;
  upload_token: string;
  sensitivity?: string;
  retention_seconds?: number;
  max_active_observations?: number;
  max_active_bytes?: number;
  ingest_rate_limit_window_ms?: number;
  ingest_rate_limit_burst?: number;
  purge_raw_on_retention?: boolean;
  allow_materialization?: boolean;
  allow_output_delivery?: boolean;
}

export interface ObservationView extends JsonObject {
  observation_id: string;
  source_id: string;
  kind: string;
  sensitivity: string;
  retention_state: 'active' | 'purged';
  asset_id: string;
  canonical_text_asset_id: string | null;
  media_type: string;
  sha256: string;
  byte_length: number;
  captured_at_ms: number;
  received_at_ms: number;
  stream_id: string | null;
  seq_no: number | null;
  idempotency_key: string;
  request_fingerprint: string;
  metadata: JsonObject;
}

export interface UploadObservationRequest {
  upload: { file_name: string; media_type: string; content_base64: string };
  idempotency_key: string;
  captured_at_ms?: number;
  stream_id?: string;
  seq_no?: number;
  canonical_text?: string;
  metadata?: JsonObject;
}

export interface ObservationListQuery extends PageQuery {
  source_id?: string;
  stream_id?: string;
  after_ms?: number;
  before_ms?: number;
  include_purged?: boolean;
}

export interface ObservationAuditRecord extends JsonObject {
  audit_id: number;
  at_ms: number;
  event: string;
  source_id: string | null;
  machine_id: string | null;
  observation_id: string | null;
  detail: JsonObject;
}

export type ObservationSelection =
  | { type: 'observation_ids'; observation_ids: string[] }
  | { type: 'latest_from_source'; source_id: string; max_observations?: number; lookback_seconds?: number }
  | {
      type: 'latest_from_stream';
      source_id: string;
      stream_id: string;
      max_observations?: number;
      lookback_seconds?: number;
    }
  | {
      type: 'observation_group';
      capture_group_id: string;
      max_observations?: number;
      lookback_seconds?: number;
    };

export interface MaterializationRequest {
  target_session_id: string;
  selection: ObservationSelection;
  request: JsonObject;
  include_raw_assets?: boolean;
  raw_asset_policy?: 'auto' | 'never' | 'always';
  fail_when_empty?: boolean;
}

/** A schedule whose fires materialize the observations present at each fire (`POST /v1/schedules`). */
export interface ObservationScheduleRequest
  extends Omit<ScheduleCreateRequest, 'request' | 'observation_materialization'> {
  /** `target_session_id` may be left out: it is the schedule's. */
  observation_materialization: Omit<MaterializationRequest, 'target_session_id'> & {
    target_session_id?: string;
  };
}

export interface CaptureAgentView extends JsonObject {
  machine_id: string;
  batch_id: string;
  os_profile: string;
  status: 'active' | 'revoked';
  source_ids: string[];
  leases: JsonObject[];
  heartbeat_state: 'pending' | 'healthy' | 'missing' | 'revoked';
  last_heartbeat_at_ms: number | null;
  heartbeat_deadline_ms: number;
  revoked_at_ms: number | null;
  revoke_reason: string | null;
}

export interface ProvisionRequest {
  batch_id: string;
  daemon_base_url: string;
  os_profile?: 'macos' | 'linux' | 'windows';
  agents: Array<{
    machine_id: string;
    os_profile?: 'macos' | 'linux' | 'windows';
    camera?: string;
    microphone?: string;
  }>;
  sources: { screen?: boolean; camera?: boolean; system_audio?: boolean; microphone?: boolean };
  interval_ms?: number;
  max_runs?: number;
  duration_ms?: number;
  retention_seconds?: number;
  max_active_observations?: number;
  max_active_bytes?: number;
  token_ttl_ms?: number;
  heartbeat_interval_ms?: number;
  heartbeat_grace_ms?: number;
}

export interface ProvisionResponse extends JsonObject {
  batch_id: string;
  agents: Array<
    JsonObject & {
      machine_id: string;
      source_ids: string[];
      heartbeat_token: string;
      upload_tokens: Record<string, string>;
      config_toml: string;
      agent: CaptureAgentView;
    }
  >;
}

export interface CaptureAlertView extends JsonObject {
  alert_id: string;
  kind: 'missing_heartbeat';
  machine_id: string;
  since_ms: number;
  heartbeat_deadline_ms: number;
  last_heartbeat_at_ms: number | null;
}

const enc = encodeURIComponent;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export class ObservationsResource {
  private readonly http: DaemonClient;

  constructor(http: DaemonClient) {
    this.http = http;
  }

  listSources(query: PageQuery & { query?: string } = {}): Promise<ListResult<ObservationSourceView>> {
    return this.http.request('GET', '/v1/observation-sources', { query: { ...query } }) as Promise<
      ListResult<ObservationSourceView>
    >;
  }

  /** 201 for a new source, 200 when an existing one was recreated (a new token bumps its version). */
  createSource(body: CreateSourceRequest): Promise<ObservationSourceView> {
    return this.http.request('POST', '/v1/observation-sources', { body }) as Promise<ObservationSourceView>;
  }

  getSource(sourceId: string): Promise<ObservationSourceView> {
    return this.http.request(
      'GET',
      `/v1/observation-sources/${enc(sourceId)}`,
    ) as Promise<ObservationSourceView>;
  }

  rotateToken(sourceId: string, uploadToken: string, gracePeriodMs?: number): Promise<ObservationSourceView> {
    const body: JsonObject = { upload_token: uploadToken };
    if (gracePeriodMs !== undefined) body.grace_period_ms = gracePeriodMs;
    return this.http.request('POST', `/v1/observation-sources/${enc(sourceId)}/rotate-token`, {
      body,
    }) as Promise<ObservationSourceView>;
  }

  revokeToken(sourceId: string, reason?: string): Promise<ObservationSourceView> {
    return this.http.request('POST', `/v1/observation-sources/${enc(sourceId)}/revoke-token`, {
      body: reason === undefined ? {} : { reason },
    }) as Promise<ObservationSourceView>;
  }

  /** Upload ingress: authenticated by the source's upload token, never the client's own token. */
  upload(sourceId: string, uploadToken: string, body: UploadObservationRequest): Promise<ObservationView> {
    return this.http.request('POST', `/v1/observation-sources/${enc(sourceId)}/observations`, {
      body: body as unknown as JsonObject,
      headers: bearer(uploadToken),
    }) as Promise<ObservationView>;
  }

  list(query: ObservationListQuery = {}): Promise<ListResult<ObservationView>> {
    return this.http.request('GET', '/v1/observations', { query: { ...query } }) as Promise<
      ListResult<ObservationView>
    >;
  }

  get(observationId: string): Promise<ObservationView> {
    return this.http.request('GET', `/v1/observations/${enc(observationId)}`) as Promise<ObservationView>;
  }

  audit(
    query: { source_id?: string; event?: string; machine_id?: string; limit?: number } = {},
  ): Promise<ObservationAuditRecord[]> {
    return this.http.request('GET', '/v1/observation-audit', { query: { ...query } }) as Promise<
      ObservationAuditRecord[]
    >;
  }

  /** 202 with the run of kind `observation_materialization`. */
  materialize(body: MaterializationRequest): Promise<RunView> {
    return this.http.request('POST', '/v1/observation-materializations', {
      body: body as unknown as JsonObject,
    }) as Promise<RunView>;
  }

  /** 201 with the ScheduleView; each fire is a run of kind `scheduled_observation_materialization`. */
  schedule(body: ObservationScheduleRequest): Promise<ScheduleView> {
    return createSchedule(this.http, body as unknown as ScheduleCreateRequest);
  }

  /** The only call whose answer carries raw upload and heartbeat tokens. */
  provisionAgents(body: ProvisionRequest): Promise<ProvisionResponse> {
    return this.http.request('POST', '/v1/capture-agent-provisions', {
      body: body as unknown as JsonObject,
    }) as Promise<ProvisionResponse>;
  }

  listAgents(): Promise<CaptureAgentView[]> {
    return this.http.request('GET', '/v1/capture-agents') as Promise<CaptureAgentView[]>;
  }

  getAgent(machineId: string): Promise<CaptureAgentView> {
    return this.http.request('GET', `/v1/capture-agents/${enc(machineId)}`) as Promise<CaptureAgentView>;
  }

  heartbeat(
    machineId: string,
    heartbeatToken: string,
    body: { observed_source_ids?: string[]; agent_version?: string } = {},
  ): Promise<CaptureAgentView> {
    return this.http.request('POST', `/v1/capture-agents/${enc(machineId)}/heartbeat`, {
      body,
      headers: bearer(heartbeatToken),
    }) as Promise<CaptureAgentView>;
  }

  revokeAgent(machineId: string, reason?: string): Promise<CaptureAgentView> {
    return this.http.request('POST', `/v1/capture-agents/${enc(machineId)}/revoke`, {
      body: reason === undefined ? {} : { reason },
    }) as Promise<CaptureAgentView>;
  }

  alerts(): Promise<CaptureAlertView[]> {
    return this.http.request('GET', '/v1/capture-alerts') as Promise<CaptureAlertView[]>;
  }
}
