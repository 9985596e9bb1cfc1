// External connector calls (api-collab §6.8): what a sidecar sends (events, batches, credential
// fetches; authenticated with the connector's shared token or the launch credential token, never
// the control-plane token) and the operator's view of the sidecar children.
import type { DaemonClient } from './client.ts';
import type { JsonObject } from './types.ts';

export interface ExternalEvent extends JsonObject {
  event_id: string;
  instance_id?: string;
  fingerprint?: string;
  occurred_at_ms?: number;
  actor_id?: string;
  source_kind?: string;
  intent?: string;
  relation?: { kind: string; target_event_id: string };
  thread?: { path: string[] };
  routing_key?: string;
  content?: string;
  input_items?: JsonObject[];
  attachments?: JsonObject[];
  reply_route?: string;
  metadata?: JsonObject;
}

export interface ExternalEventResult extends JsonObject {
  event_id: string;
  status: 'accepted' | 'duplicate' | 'rejected';
  session_id: string | null;
  run_id: string | null;
}

export interface ExternalBatchItem extends JsonObject {
  index: number;
  event_id: string | null;
  status: 'accepted' | 'duplicate' | 'rejected' | 'rate_limited' | 'error';
  session_id: string | null;
  run_id: string | null;
  retry_after_ms?: number;
  code?: string;
  detail?: string;
}

export interface ExternalChildStatus extends JsonObject {
  connector: string;
  state: string;
  owner_replica_id: string | null;
  pid: number | null;
  instance_id: string | null;
  restarts: number;
  last_error: string | null;
}

export interface CredentialLeaseValue extends JsonObject {
  value: string;
  lease_id: string;
  grant_id: string;
  expires_at_ms: number;
}

const enc = encodeURIComponent;
const bearer = (token: string | undefined) =>
  token ? { authorization: `Bearer ${token}` } : { authorization: '' };

export class ExternalConnectorsResource {
  private readonly http: DaemonClient;

  constructor(http: DaemonClient) {
    this.http = http;
  }

  /** POST /v1/connectors/external/{name}/events (protocol 2); `sharedToken` unless unauthenticated ingress. */
  sendEvent(
    name: string,
    event: ExternalEvent,
    sharedToken?: string,
    protocolVersion = 2,
  ): Promise<ExternalEventResult> {
    return this.http.request('POST', `/v1/connectors/external/${enc(name)}/events`, {
      body: { protocol_version: protocolVersion, ...event },
      headers: bearer(sharedToken),
    }) as Promise<ExternalEventResult>;
  }

  /** POST …/events/batch: one result per event, in order (`results`). */
  sendBatch(
    name: string,
    events: ExternalEvent[],
    sharedToken?: string,
  ): Promise<{ protocol_version: number; results: ExternalBatchItem[] }> {
    return this.http.request('POST', `/v1/connectors/external/${enc(name)}/events/batch`, {
      body: { protocol_version: 2, events },
      headers: bearer(sharedToken),
    }) as Promise<{ protocol_version: number; results: ExternalBatchItem[] }>;
  }

  /** GET …/credentials/{env_key} with the launch's KHEISH_EXTERNAL_CONNECTOR_CREDENTIAL_TOKEN. */
  credential(name: string, envKey: string, credentialToken: string): Promise<CredentialLeaseValue> {
    return this.http.request('GET', `/v1/connectors/external/${enc(name)}/credentials/${enc(envKey)}`, {
      headers: bearer(credentialToken),
    }) as Promise<CredentialLeaseValue>;
  }

  /** GET /v1/runtime/external-connectors: every child process, where it runs and how it is doing. */
  status(): Promise<{ children: ExternalChildStatus[] }> {
    return this.http.request('GET', '/v1/runtime/external-connectors') as Promise<{
      children: ExternalChildStatus[];
    }>;
  }
}
