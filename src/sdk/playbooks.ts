// Playbooks and Flows client calls (api-collab §3): the manifest catalog with its release states,
// and Flows (start, read the derived status, append evidence, cancel, stream the root run).
import type { DaemonClient, SseStream } from './client.ts';
import type { JsonObject, RunView } from './types.ts';

export type PlaybookReleaseStatus = 'draft' | 'verified' | 'canary' | 'active' | 'revoked';
export type FlowStatus =
  | 'pending'
  | 'running'
  | 'waiting'
  | 'succeeded'
  | 'failed'
  | 'cancelled'
  | 'interrupted'
  | 'unknown';

export interface EvidenceRef {
  kind: string;
  id: string;
  description?: string;
}

/** The manifest (api-collab §3.3); `playbook_id`, `version`, `title` and `objective` are required. */
export interface PlaybookManifest extends JsonObject {
  playbook_id: string;
  version: string;
  title: string;
  objective: string;
}

export interface ManifestValidation extends JsonObject {
  valid: boolean;
  digest?: string;
  errors: string[];
  warnings: string[];
}

export interface PlaybookVersionView extends JsonObject {
  version: string;
  digest: string;
  status: PlaybookReleaseStatus;
  created_at_ms: number;
  updated_at_ms: number;
  evidence_refs: EvidenceRef[];
  revoked_reason: string | null;
}

export interface PlaybookView extends JsonObject {
  playbook_id: string;
  latest_version: string;
  active_version: string | null;
  versions: PlaybookVersionView[];
  selected_version: {
    playbook_id: string;
    version: string;
    digest: string;
    manifest: PlaybookManifest;
    created_at_ms: number;
  };
}

export interface PlaybookRef {
  playbook_id: string;
  version: string;
  digest: string;
}

export interface StartFlowRequest {
  flow_id?: string;
  idempotency_key?: string;
  playbook_ref: PlaybookRef;
  session_id: string;
  request: JsonObject;
  metadata?: JsonObject;
  evidence_refs?: EvidenceRef[];
}

export interface FlowView extends JsonObject {
  flow_id: string;
  status: FlowStatus;
  playbook_ref: PlaybookRef;
  session_id: string;
  run_id: string | null;
  primitive_refs: Record<string, string[]>;
  phase_states: Array<{
    phase_id: string;
    status: 'pending' | 'satisfied' | 'blocked';
    missing_evidence: string[];
  }>;
  contract: { passed: boolean; checks: Array<{ name: string; passed: boolean; details: string }> };
  run: RunView | null;
  run_stream_url: string | null;
  created_at_ms: number;
  updated_at_ms: number;
  completed_at_ms: number | null;
  evidence_refs: EvidenceRef[];
}

const enc = encodeURIComponent;

export class PlaybooksResource {
  private readonly http: DaemonClient;

  constructor(http: DaemonClient) {
    this.http = http;
  }

  list(query: { query?: string; status?: PlaybookReleaseStatus } = {}): Promise<PlaybookView[]> {
    return this.http.request('GET', '/v1/playbooks', { query }) as Promise<PlaybookView[]>;
  }

  /** Structural validation only: nothing is stored. */
  validate(manifest: PlaybookManifest): Promise<ManifestValidation> {
    return this.http.request('POST', '/v1/playbooks/validate', {
      body: { manifest },
    }) as Promise<ManifestValidation>;
  }

  /** Idempotent on playbook_id + version + digest; another body for the same version is a 409. */
  create(manifest: PlaybookManifest): Promise<PlaybookView> {
    return this.http.request('POST', '/v1/playbooks', { body: { manifest } }) as Promise<PlaybookView>;
  }

  get(playbookId: string): Promise<PlaybookView> {
    return this.http.request('GET', `/v1/playbooks/${enc(playbookId)}`) as Promise<PlaybookView>;
  }

  /** `status` defaults to active; evidence is required. */
  publish(
    playbookId: string,
    body: {
      version: string;
      digest: string;
      status?: 'verified' | 'canary' | 'active';
      evidence_refs: EvidenceRef[];
    },
  ): Promise<PlaybookView> {
    return this.http.request('POST', `/v1/playbooks/${enc(playbookId)}/publish`, {
      body,
    }) as Promise<PlaybookView>;
  }

  revoke(
    playbookId: string,
    body: { version: string; digest: string; reason?: string; evidence_refs?: EvidenceRef[] },
  ): Promise<PlaybookView> {
    return this.http.request('POST', `/v1/playbooks/${enc(playbookId)}/revoke`, {
      body,
    }) as Promise<PlaybookView>;
  }
}

export interface VerifyProductViewRequest {
  /** A file in the daemon's workspace (the file tools' confinement). */
  report_path: string;
  /** Markdown headings the report must have (case-insensitive). */
  required_sections?: string[];
  /** Tools no run in the Flow may have called (the manifest's deny list is added). */
  forbidden_tools?: string[];
}

export interface ProductViewVerdict {
  flow_id: string;
  passed: boolean;
  checks: { name: string; passed: boolean; details: string }[];
  /** The evidence refs this verification recorded on the Flow (empty when it failed). */
  evidence: EvidenceRef[];
}

export class FlowsResource {
  private readonly http: DaemonClient;

  constructor(http: DaemonClient) {
    this.http = http;
  }

  list(query: { playbook_id?: string; session_id?: string; status?: FlowStatus } = {}): Promise<FlowView[]> {
    return this.http.request('GET', '/v1/flows', { query }) as Promise<FlowView[]>;
  }

  /** Submits the root run; an identical retry answers the same flow and run. */
  start(body: StartFlowRequest): Promise<FlowView> {
    return this.http.request('POST', '/v1/flows', { body }) as Promise<FlowView>;
  }

  get(flowId: string): Promise<FlowView> {
    return this.http.request('GET', `/v1/flows/${enc(flowId)}`) as Promise<FlowView>;
  }

  cancel(flowId: string): Promise<FlowView> {
    return this.http.request('POST', `/v1/flows/${enc(flowId)}/cancel`) as Promise<FlowView>;
  }

  /** Idempotent by kind + id; answers the updated view (gates rechecked). */
  appendEvidence(flowId: string, evidence_refs: EvidenceRef[]): Promise<FlowView> {
    return this.http.request('POST', `/v1/flows/${enc(flowId)}/evidence`, {
      body: { evidence_refs },
    }) as Promise<FlowView>;
  }

  /** Checks a report file in the workspace and the Flow's tool calls; a pass adds evidence. */
  verifyProductView(flowId: string, body: VerifyProductViewRequest): Promise<ProductViewVerdict> {
    return this.http.request('POST', `/v1/flows/${enc(flowId)}/verify/product-view`, {
      body,
    }) as Promise<ProductViewVerdict>;
  }

  /** The root run's event stream (one connection; `cursor` replays from an event id). */
  stream(
    flowId: string,
    opts: { cursor?: string; signal?: AbortSignal; onOpen?: () => void | Promise<void> } = {},
  ): SseStream {
    return this.http.stream(this.http.url(`/v1/flows/${enc(flowId)}/stream`), opts.cursor, {
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.onOpen ? { onOpen: opts.onOpen } : {}),
    });
  }
}
