// Connector registry client calls (api-collab §6.2) and the HTTP connector's ingress call (§6.4).
// Views never carry secret values: a secret field reads `{configured, source, secret_ref, env}`.
import type { DaemonClient } from './client.ts';
import type { JsonObject, ListResult, PageQuery } from './types.ts';

export type ConnectorKind = 'http' | 'slack' | 'telegram' | 'external';

/** Write-only: where a secret comes from (`env` excludes the other two). */
export interface ConnectorSecretInput {
  value?: string;
  secret_ref?: string;
  env?: string;
}

export interface SecretMetadata extends JsonObject {
  configured: boolean;
  source: 'secret_ref' | 'env' | 'inline' | null;
  secret_ref: string | null;
  env: string | null;
}

/** A projected connector: kind, name, `source` (`file` or `daemon`), settings and secret metadata. */
export interface ConnectorView extends JsonObject {
  kind: ConnectorKind;
  name: string;
  source: 'file' | 'daemon';
}

export interface ConnectorIngressResult extends JsonObject {
  status: 'accepted' | 'duplicate';
  session_id: string;
  run_id: string;
}

const enc = encodeURIComponent;

export class ConnectorsResource {
  private readonly http: DaemonClient;

  constructor(http: DaemonClient) {
    this.http = http;
  }

  /** GET /v1/runtime/connectors: file-backed and runtime connectors, by kind then name. */
  list(query: PageQuery = {}): Promise<ListResult<ConnectorView>> {
    return this.http.request('GET', '/v1/runtime/connectors', { query: { ...query } }) as Promise<
      ListResult<ConnectorView>
    >;
  }

  get(kind: ConnectorKind, name: string): Promise<ConnectorView> {
    return this.http.request(
      'GET',
      `/v1/runtime/connectors/${enc(kind)}/${enc(name)}`,
    ) as Promise<ConnectorView>;
  }

  /** Field-aware upsert: fields given replace, `null` clears, omitted fields keep their stored value. */
  put(kind: ConnectorKind, name: string, body: JsonObject): Promise<ConnectorView> {
    return this.http.request('PUT', `/v1/runtime/connectors/${enc(kind)}/${enc(name)}`, {
      body,
    }) as Promise<ConnectorView>;
  }

  /** 409 for a file-backed connector or one still referenced by reply targets or schedules. */
  delete(
    kind: ConnectorKind,
    name: string,
  ): Promise<{ deleted: true; kind: ConnectorKind; name: string; cleared_sessions: number }> {
    return this.http.request('DELETE', `/v1/runtime/connectors/${enc(kind)}/${enc(name)}`) as Promise<{
      deleted: true;
      kind: ConnectorKind;
      name: string;
      cleared_sessions: number;
    }>;
  }
}
