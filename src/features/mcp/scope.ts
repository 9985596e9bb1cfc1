// Session capability scope over the MCP surface (ops-runtime §5.4): `mcp_server_allow/deny` name
// servers, `mcp_tool_allow/deny` name tools (qualified `mcp__<server>__<tool>` or a helper name),
// each entry exact, a prefix ending in `*`, or `*`. Deny wins; an allow list hides what it omits.

export interface McpScope {
  mcp_server_allow?: string[];
  mcp_server_deny?: string[];
  mcp_tool_allow?: string[];
  mcp_tool_deny?: string[];
}

export const MCP_HELPERS = [
  'list_mcp_resources',
  'list_mcp_resource_templates',
  'read_mcp_resource',
] as const;

const matches = (pattern: string, name: string) =>
  pattern === '*' || pattern === name || (pattern.endsWith('*') && name.startsWith(pattern.slice(0, -1)));

const listed = (list: string[] | undefined, name: string) => list?.some((p) => matches(p, name)) ?? false;

export function serverVisible(scope: McpScope | null, server: string): boolean {
  if (!scope) return true;
  if (listed(scope.mcp_server_deny, server)) return false;
  return !scope.mcp_server_allow || listed(scope.mcp_server_allow, server);
}

export function toolVisible(scope: McpScope | null, toolName: string, server: string | null): boolean {
  if (!scope) return true;
  if (server !== null && !serverVisible(scope, server)) return false;
  if (listed(scope.mcp_tool_deny, toolName)) return false;
  return !scope.mcp_tool_allow || listed(scope.mcp_tool_allow, toolName);
}

export const hasMcpScope = (scope: McpScope | null): scope is McpScope =>
  !!scope &&
  !!(scope.mcp_server_allow || scope.mcp_server_deny || scope.mcp_tool_allow || scope.mcp_tool_deny);
