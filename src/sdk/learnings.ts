// Learnings API client calls (api-collab §4.1–4.5): candidates, published learnings and the
// automation policy (`/v1/runtime/learning-policy`).
import type { DaemonClient, RequestOptions } from './client.ts';
import type { JsonObject } from './types.ts';

export type LearningScopeKind = 'session' | 'persona' | 'project' | 'workspace';
export type LearningKind = 'run_summary' | 'fact' | 'preference' | 'decision' | 'procedure';

export interface LearningScopeRef extends JsonObject {
  kind: LearningScopeKind;
  id: string;
}

export interface LearningCandidateView extends JsonObject {
  candidate_id: string;
  origin: 'api' | 'daemon';
  state: 'pending' | 'escalated' | 'published' | 'rejected';
  scope: LearningScopeRef;
  kind: LearningKind;
  sensitivity: 'scoped' | 'sensitive';
  content: string;
  confidence: number;
  source: JsonObject;
  evidence_refs: unknown[];
  expires_at_ms: number | null;
  automation_review: JsonObject | null;
  published_learning_id: string | null;
  reject_reason: string | null;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface LearningView extends JsonObject {
  learning_id: string;
  candidate_id: string | null;
  scope: LearningScopeRef;
  kind: LearningKind;
  sensitivity: 'scoped' | 'sensitive';
  content: string;
  confidence: number;
  status: 'active' | 'provisional' | 'revoked' | 'superseded' | 'expired';
  publish_tier: 'active' | 'provisional';
  verification_status: 'unverified' | 'verified' | 'failed';
  policy_decision: 'manual' | 'automatic' | 'escalated';
  policy_actor: 'operator' | 'policy' | 'judge';
  matched_rule_name: string | null;
  source: JsonObject;
  evidence_refs: unknown[];
  supersedes: string | null;
  superseded_by: string | null;
  revoke_reason: string | null;
  revoked_at_ms: number | null;
  expires_at_ms: number | null;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface CreateLearningCandidateRequest {
  scope: { kind: LearningScopeKind; id?: string };
  kind: Exclude<LearningKind, 'run_summary'>;
  content: string;
  sensitivity?: 'scoped' | 'sensitive';
  confidence?: number;
  source?: { session_id?: string; run_id?: string };
  evidence_refs?: unknown[];
  expires_at_ms?: number | null;
}

export interface PublishLearningCandidateRequest {
  scope?: { kind: LearningScopeKind; id?: string };
  kind?: LearningKind;
  sensitivity?: 'scoped' | 'sensitive';
  content?: string;
  confidence?: number;
  expires_at_ms?: number | null;
  publish_tier?: 'active' | 'provisional';
  evidence_refs?: unknown[];
  supersedes?: string;
}

export interface SupersedeLearningRequest {
  content: string;
  scope?: { kind: LearningScopeKind; id?: string };
  kind?: LearningKind;
  sensitivity?: 'scoped' | 'sensitive';
  confidence?: number;
  expires_at_ms?: number | null;
}

export interface CandidateFilters {
  query?: string;
  scope_kind?: LearningScopeKind;
  scope_id?: string;
  kind?: LearningKind;
  state?: LearningCandidateView['state'];
}

export interface LearningFilters {
  query?: string;
  scope_kind?: LearningScopeKind;
  scope_id?: string;
  kind?: LearningKind;
  status?: LearningView['status'];
  policy_decision?: LearningView['policy_decision'];
  policy_actor?: LearningView['policy_actor'];
  matched_rule_name?: string;
}

const enc = encodeURIComponent;

function call<T>(http: DaemonClient, method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  return http.request(method, path, opts) as Promise<T>;
}

export class LearningsResource {
  private readonly http: DaemonClient;

  constructor(http: DaemonClient) {
    this.http = http;
  }

  listCandidates(filters: CandidateFilters = {}): Promise<LearningCandidateView[]> {
    return call(this.http, 'GET', '/v1/learning-candidates', {
      query: { ...filters } as RequestOptions['query'],
    });
  }

  /** POST /v1/learning-candidates: 201, reviewed by the automation policy before it returns. */
  createCandidate(body: CreateLearningCandidateRequest): Promise<LearningCandidateView> {
    return call(this.http, 'POST', '/v1/learning-candidates', { body });
  }

  getCandidate(id: string): Promise<LearningCandidateView> {
    return call(this.http, 'GET', `/v1/learning-candidates/${enc(id)}`);
  }

  /** Operator publication: the learning (policy_decision manual, policy_actor operator). */
  publishCandidate(id: string, body: PublishLearningCandidateRequest = {}): Promise<LearningView> {
    return call(this.http, 'POST', `/v1/learning-candidates/${enc(id)}/publish`, { body });
  }

  rejectCandidate(id: string, reason?: string): Promise<LearningCandidateView> {
    return call(this.http, 'POST', `/v1/learning-candidates/${enc(id)}/reject`, {
      body: reason ? { reason } : {},
    });
  }

  list(filters: LearningFilters = {}): Promise<LearningView[]> {
    return call(this.http, 'GET', '/v1/learnings', { query: { ...filters } as RequestOptions['query'] });
  }

  get(id: string): Promise<LearningView> {
    return call(this.http, 'GET', `/v1/learnings/${enc(id)}`);
  }

  revoke(id: string, reason?: string): Promise<LearningView> {
    return call(this.http, 'POST', `/v1/learnings/${enc(id)}/revoke`, { body: reason ? { reason } : {} });
  }

  supersede(id: string, body: SupersedeLearningRequest): Promise<LearningView> {
    return call(this.http, 'POST', `/v1/learnings/${enc(id)}/supersede`, { body });
  }

  /** Revokes every live learning the filters match; an empty filter set needs `all: true`. */
  revokeMatching(
    body: LearningFilters & { reason?: string; all?: boolean },
  ): Promise<{ revoked_count: number; learning_ids: string[] }> {
    return call(this.http, 'POST', '/v1/learnings/revoke-matching', { body });
  }

  getPolicy(): Promise<JsonObject> {
    return call(this.http, 'GET', '/v1/runtime/learning-policy');
  }

  /** Replaces the whole policy; `expected_revision` guards against a concurrent change (409). */
  setPolicy(policy: JsonObject, expectedRevision?: number): Promise<JsonObject> {
    const body =
      expectedRevision === undefined ? { policy } : { policy, expected_revision: expectedRevision };
    return call(this.http, 'POST', '/v1/runtime/learning-policy', { body });
  }
}
