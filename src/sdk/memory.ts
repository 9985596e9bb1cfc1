// Memory API client calls (api-core §3.5, §5.6; docs/memory.md): a session's memory projection and
// search, and the recovered run-memory policy.
import type { DaemonClient } from './client.ts';
import type { JsonObject } from './types.ts';

export interface LearningScopeRef extends JsonObject {
  kind: 'session' | 'persona' | 'project' | 'workspace';
  id: string;
}

export interface RunMemoryPolicy extends JsonObject {
  enabled: boolean;
  retention_ms: number;
  max_tracked_per_session: number;
  max_prompt_entries: number;
  redact_pii: boolean;
  search_visibility: 'session_only' | 'learning_scopes';
  /** Our extension: embedding-blended memory search through an openai/openai_compatible route. */
  semantic_search?: { enabled: boolean; route: string | null; model: string | null };
}

export interface RecoveredMemoryEntry extends JsonObject {
  run_id: string;
  session_id: string;
  status: 'completed' | 'failed' | 'interrupted' | 'cancelled';
  captured_at_ms: number;
  summary: string;
  request_preview: string | null;
  outcome_preview: string | null;
  failure_markers: string[];
  artifact_ids: string[];
  score: number;
}

export interface SessionMemoryContextView extends JsonObject {
  session_id: string;
  effective_capability_scope: JsonObject | null;
  learning_scopes: LearningScopeRef[];
  query?: string;
  learned_context: JsonObject[];
  recovered_memory: RecoveredMemoryEntry[];
  visible_skills: JsonObject[];
}

export interface MemorySearchResult extends JsonObject {
  kind: 'learning' | 'recovered_run' | 'skill';
  source_id: string;
  title: string;
  excerpt: string;
  score: number;
  timestamp_ms: number;
  scope?: LearningScopeRef;
  prompt_eligible: boolean;
  learning_status?: string;
  publish_tier?: string;
  verification_status?: string;
  matched_fields: string[];
}

export interface SessionMemorySearchView extends JsonObject {
  session_id: string;
  effective_capability_scope: JsonObject | null;
  learning_scopes: LearningScopeRef[];
  query?: string;
  truncated: boolean;
  results: MemorySearchResult[];
}

const enc = encodeURIComponent;

export class MemoryResource {
  private readonly http: DaemonClient;

  constructor(http: DaemonClient) {
    this.http = http;
  }

  /** GET /v1/sessions/{id}/memory-context: what the next prompt would get (ranked against `query`). */
  context(sessionId: string, query?: string): Promise<SessionMemoryContextView> {
    return this.http.request('GET', `/v1/sessions/${enc(sessionId)}/memory-context`, {
      query: { query },
    }) as Promise<SessionMemoryContextView>;
  }

  /** GET /v1/sessions/{id}/memory-search: recent browse without a query; `limit` 12 by default, 50 at most. */
  search(sessionId: string, opts: { query?: string; limit?: number } = {}): Promise<SessionMemorySearchView> {
    return this.http.request('GET', `/v1/sessions/${enc(sessionId)}/memory-search`, {
      query: { query: opts.query, limit: opts.limit },
    }) as Promise<SessionMemorySearchView>;
  }

  /** GET /v1/runtime/run-memory-policy. */
  policy(): Promise<RunMemoryPolicy> {
    return this.http.request('GET', '/v1/runtime/run-memory-policy') as Promise<RunMemoryPolicy>;
  }

  /** POST /v1/runtime/run-memory-policy: a full replacement (left-out fields take defaults); prunes at once. */
  setPolicy(policy: Partial<RunMemoryPolicy>, expectedRevision?: number): Promise<JsonObject> {
    return this.http.request('POST', '/v1/runtime/run-memory-policy', {
      body: { policy, ...(expectedRevision !== undefined ? { expected_revision: expectedRevision } : {}) },
    }) as Promise<JsonObject>;
  }
}
