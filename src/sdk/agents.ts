// Client calls for managed agents and sidechains (api-core §6.1/§6.4).
import type { DaemonClient } from './client.ts';
import type { InputAttachment, InputItem, JsonObject, ListResult } from './types.ts';

export type AgentStatus =
  | 'idle'
  | 'running'
  | 'waiting_for_approval'
  | 'waiting_for_user_input'
  | 'failed'
  | 'completed';

/** ManagedAgentSnapshot: top-level tree fields, the static `agent` record, live state. */
export interface ManagedAgentSnapshot extends JsonObject {
  agent_id: string;
  parent_agent_id: string | null;
  root_agent_id: string;
  session_id: string;
  status: AgentStatus;
  depth: number;
  children: string[];
  agent: JsonObject;
}

export interface AgentSummaryView extends JsonObject {
  agent_id: string;
  session_id: string;
  status: AgentStatus;
  has_runtime: boolean;
}

export interface AgentSummariesQuery {
  root_agent_id?: string;
  session_id?: string;
  status?: AgentStatus;
  has_runtime?: boolean;
  page?: boolean;
  cursor?: string;
  limit?: number;
}

/** SpawnSidechainRequest (plus the `profile` extension); see docs/multi-agent.md. */
export interface SpawnSidechainRequest {
  session_id?: string;
  thread_id?: string;
  route_policy?: JsonObject;
  provider?: string;
  permission_mode?: string;
  retention?: 'retain' | 'close_on_settle';
  nickname?: string;
  spawn_request_id?: string;
  fork_context?: JsonObject;
  generation?: JsonObject;
  tool_surface?: { allowlist?: string[]; denylist?: string[] };
  capability_scope?: JsonObject;
  credential_scope?: JsonObject;
  subtask?: {
    name: string;
    description?: string;
    content?: string;
    input_items?: InputItem[];
    attachments?: InputAttachment[];
  };
  profile?: string;
}

const agentPath = (id: string) => `/v1/agents/${encodeURIComponent(id)}`;

export const listAgents = (c: DaemonClient) =>
  c.request('GET', '/v1/agents') as Promise<ManagedAgentSnapshot[]>;

export const getAgent = (c: DaemonClient, agentId: string) =>
  c.request('GET', agentPath(agentId)) as Promise<ManagedAgentSnapshot>;

export const agentSummaries = (c: DaemonClient, q: AgentSummariesQuery = {}) =>
  c.request('GET', '/v1/agents/summaries', {
    query: {
      root_agent_id: q.root_agent_id,
      session_id: q.session_id,
      status: q.status,
      has_runtime: q.has_runtime === undefined ? undefined : String(q.has_runtime),
      page: q.page || q.cursor ? 'true' : undefined,
      cursor: q.cursor,
      limit: q.limit,
    },
  }) as Promise<ListResult<AgentSummaryView> & JsonObject>;

export const spawnSidechain = (c: DaemonClient, parentAgentId: string, body: SpawnSidechainRequest) =>
  c.request('POST', `${agentPath(parentAgentId)}/sidechains`, { body }) as Promise<JsonObject>;

export const explainSidechain = (c: DaemonClient, parentAgentId: string, body: SpawnSidechainRequest) =>
  c.request('POST', `${agentPath(parentAgentId)}/sidechains/explain`, { body }) as Promise<JsonObject>;

export const renameAgent = (c: DaemonClient, agentId: string, nickname: string) =>
  c.request('PUT', `${agentPath(agentId)}/nickname`, { body: { nickname } }) as Promise<ManagedAgentSnapshot>;

export const clearAgentNickname = (c: DaemonClient, agentId: string) =>
  c.request('DELETE', `${agentPath(agentId)}/nickname`) as Promise<ManagedAgentSnapshot>;
