// Skills API client calls (api-core §12.2): the daemon's catalog, one skill with its instructions,
// and the skills one session can see. Inspection only; skills are activated by the model's tools.
import type { DaemonClient } from './client.ts';
import type { JsonObject } from './types.ts';

export type SkillScope = 'explicit' | 'repo' | 'user' | 'daemon';

export interface SkillRuntime {
  allowed_tools: string[];
  blocked_tools: string[];
  context: 'inline' | 'fork';
  agent_profile?: string;
  provider?: string;
  model?: string;
  fallback_model?: string;
}

export interface SkillSummaryView extends JsonObject {
  name: string;
  description: string;
  when_to_use?: string;
  version?: string;
  skill_path: string;
  skill_root: string;
  scope: SkillScope;
  digest: string;
  runtime: SkillRuntime & JsonObject;
  /** Session lists only: the skill is active inline in the session. */
  active?: boolean;
}

export interface SkillView extends SkillSummaryView {
  instructions: string;
}

const q = (query: string | undefined) => (query === undefined ? {} : { query: { query } });

export class SkillsResource {
  private readonly http: DaemonClient;

  constructor(http: DaemonClient) {
    this.http = http;
  }

  /** GET /v1/skills: every loaded skill, or those matching `query` (name, description, when_to_use). */
  list(query?: string): Promise<SkillSummaryView[]> {
    return this.http.request('GET', '/v1/skills', q(query)) as Promise<SkillSummaryView[]>;
  }

  /** GET /v1/skills/{name}: the summary plus `instructions`; an unknown name throws a 404 problem. */
  get(name: string): Promise<SkillView> {
    return this.http.request('GET', `/v1/skills/${encodeURIComponent(name)}`) as Promise<SkillView>;
  }

  /** GET /v1/sessions/{id}/skills: the skills the session's capability scope lets it see. */
  forSession(sessionId: string, query?: string): Promise<SkillSummaryView[]> {
    return this.http.request(
      'GET',
      `/v1/sessions/${encodeURIComponent(sessionId)}/skills`,
      q(query),
    ) as Promise<SkillSummaryView[]>;
  }
}
