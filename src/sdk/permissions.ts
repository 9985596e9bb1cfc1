// Client calls for tool limits, session permission rules and permission audits.
import type { DaemonClient } from './client.ts';
import type { JsonObject } from './types.ts';

export interface PermissionRuleInput {
  pattern: string;
  decision: 'allow' | 'ask' | 'deny';
}

export const getToolLimits = (c: DaemonClient) =>
  c.request('GET', '/v1/runtime/tool-limits') as Promise<JsonObject>;

export const setToolLimits = (c: DaemonClient, limits: unknown, expectedRevision?: number) =>
  c.request('POST', '/v1/runtime/tool-limits', {
    body: expectedRevision === undefined ? { limits } : { limits, expected_revision: expectedRevision },
  }) as Promise<JsonObject>;

const rulesPath = (sessionId: string) => `/v1/sessions/${encodeURIComponent(sessionId)}/permission-rules`;

export const getPermissionRules = (c: DaemonClient, sessionId: string) =>
  c.request('GET', rulesPath(sessionId)) as Promise<JsonObject>;

export const replacePermissionRules = (c: DaemonClient, sessionId: string, rules: PermissionRuleInput[]) =>
  c.request('PUT', rulesPath(sessionId), { body: { rules } }) as Promise<JsonObject>;

export const addPermissionRule = (c: DaemonClient, sessionId: string, rule: PermissionRuleInput) =>
  c.request('POST', rulesPath(sessionId), { body: rule }) as Promise<JsonObject>;

export const removePermissionRules = (c: DaemonClient, sessionId: string, pattern?: string) =>
  c.request('DELETE', rulesPath(sessionId), { query: { pattern } }) as Promise<JsonObject>;

export const permissionAudits = (
  c: DaemonClient,
  sessionId: string,
  page: { page?: boolean; limit?: number; cursor?: string } = {},
) =>
  c.request('GET', `/v1/sessions/${encodeURIComponent(sessionId)}/permission-audits`, {
    query: { page: page.page || page.cursor ? 'true' : undefined, limit: page.limit, cursor: page.cursor },
  });
