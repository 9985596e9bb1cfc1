// Promoted procedural skills client calls (api-collab §4.6): promote a reviewed workspace procedure
// learning into a daemon-owned fork skill, record rollout evidence from real runs, revoke, roll back.
import type { DaemonClient, RequestOptions } from './client.ts';
import type { JsonObject } from './types.ts';

export type LearningSkillStatus = 'draft' | 'verified' | 'canary' | 'active' | 'revoked';

export interface LearningSkillView extends JsonObject {
  skill_name: string;
  source_learning_id: string;
  status: LearningSkillStatus;
  verification_status: 'pending' | 'verified';
  definition: JsonObject;
  definition_fingerprint: string;
  skill_path: string;
  skill_root: string;
  rollout_generation: number;
  evidence_refs: JsonObject[];
  successful_run_count: number;
  distinct_session_count: number;
  verifier_run_ids: string[];
  real_daemon_verified: boolean;
  last_verified_workspace_digest: string | null;
  canary_success_count: number;
  canary_failure_count: number;
  lifecycle_events: JsonObject[];
  active_snapshot_count: number;
  revoked_reason: string | null;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface PromoteSkillRequest {
  skill_name: string;
  description?: string | null;
  when_to_use?: string | null;
  version?: string | null;
  /** Omitted: the learning's content. */
  instructions?: string | null;
  allowed_tools?: string[] | null;
  blocked_tools?: string[] | null;
  context?: string | null;
  agent_profile?: string | null;
  provider?: string | null;
  model?: string | null;
  fallback_model?: string | null;
  /** draft (default) for a new skill; later calls move it on when the evidence allows. */
  status?: Exclude<LearningSkillStatus, 'revoked'> | null;
}

export interface RolloutResultRequest {
  kind: 'verification' | 'canary';
  run_id: string;
  expected_output_contains: string;
  definition_fingerprint?: string | null;
}

const enc = encodeURIComponent;

function call<T>(http: DaemonClient, method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  return http.request(method, path, opts) as Promise<T>;
}

export class LearningSkillsResource {
  private readonly http: DaemonClient;

  constructor(http: DaemonClient) {
    this.http = http;
  }

  list(
    query: { source_learning_id?: string; status?: LearningSkillStatus } = {},
  ): Promise<LearningSkillView[]> {
    return call(this.http, 'GET', '/v1/learning-skills', { query: { ...query } as RequestOptions['query'] });
  }

  get(skillName: string): Promise<LearningSkillView> {
    return call(this.http, 'GET', `/v1/learning-skills/${enc(skillName)}`);
  }

  /** POST /v1/learnings/{id}/promote-skill: creates the draft, or moves an existing rollout on. */
  promote(learningId: string, body: PromoteSkillRequest): Promise<LearningSkillView> {
    return call(this.http, 'POST', `/v1/learnings/${enc(learningId)}/promote-skill`, { body });
  }

  rolloutResult(skillName: string, body: RolloutResultRequest): Promise<LearningSkillView> {
    return call(this.http, 'POST', `/v1/learning-skills/${enc(skillName)}/rollout-result`, { body });
  }

  revoke(skillName: string, reason?: string): Promise<LearningSkillView> {
    return call(this.http, 'POST', `/v1/learning-skills/${enc(skillName)}/revoke`, {
      body: reason ? { reason } : {},
    });
  }

  rollback(skillName: string, reason?: string): Promise<LearningSkillView> {
    return call(this.http, 'POST', `/v1/learning-skills/${enc(skillName)}/rollback`, {
      body: reason ? { reason } : {},
    });
  }
}
