// Capability scope over the MCP surface (ops-runtime §5.4): `mcp_server_allow/deny` name servers,
// `mcp_tool_allow/deny` name tools (qualified `mcp__<server>__<tool>` or a helper name), each entry
// exact, a prefix ending in `*`, or `*`. Deny wins; an allow list hides what it omits. The scope
// given here is the session's effective one (src/engine/capability-scope.ts).
import { type CapabilityScopeLists, pairAdmits } from '../../engine/capability-scope.ts';

export type McpScope = Pick<
  CapabilityScopeLists,
  'mcp_server_allow' | 'mcp_server_deny' | 'mcp_tool_allow' | 'mcp_tool_deny'
>;

export const MCP_HELPERS = [
  'list_mcp_resources',
  'list_mcp_resource_templates',
  'read_mcp_resource',
] as const;

export function serverVisible(scope: McpScope | null, server: string): boolean {
  return !scope || pairAdmits(scope.mcp_server_allow, scope.mcp_server_deny, server);
}

export function toolVisible(scope: McpScope | null, toolName: string, server: string | null): boolean {
  if (!scope) return true;
  if (server !== null && !serverVisible(scope, server)) return false;
  return pairAdmits(scope.mcp_tool_allow, scope.mcp_tool_deny, toolName);
}

export const hasMcpScope = (scope: McpScope | null): scope is McpScope =>
  !!scope &&
  !!(scope.mcp_server_allow || scope.mcp_server_deny || scope.mcp_tool_allow || scope.mcp_tool_deny);
