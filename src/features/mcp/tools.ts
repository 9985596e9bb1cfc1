// MCP tools in the daemon's tool registry: each server tool as `mcp__<server>__<tool>` (sanitized),
// plus the three resource helpers. Read-only only when the server says so (readOnlyHint); every
// other MCP tool counts as a side effect, so a crash mid-call is never replayed blindly.
import { createHash } from 'node:crypto';
import type { ToolDefinition, ToolResult } from '../../tools/registry.ts';
import { capJson } from './bounds.ts';
import type { McpConnection, RemoteTool } from './connection.ts';
import type { MCP_HELPERS } from './scope.ts';

/** Tool names providers accept: letters, digits, `_`, `-`; at most 64 characters. */
const MAX_NAME = 64;
const sanitize = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, '_');

export function qualifiedName(server: string, tool: string): string {
  const name = `mcp__${sanitize(server)}__${sanitize(tool)}`;
  if (name.length <= MAX_NAME) return name;
  // Cut, with a digest of the full name so two long names stay apart.
  const digest = createHash('sha1').update(`${server}\u0000${tool}`).digest('hex').slice(0, 8);
  return `${name.slice(0, MAX_NAME - 9)}_${digest}`;
}

export function toolIncluded(conn: McpConnection, tool: string): boolean {
  const c = conn.plan.config;
  if (c.enabled_tools && !c.enabled_tools.includes(tool)) return false;
  return !c.disabled_tools.includes(tool);
}

export interface McpToolRef {
  server: string;
  tool: string;
  qualified: string;
  readOnly: boolean;
}

export interface McpCaller {
  callTool(
    ref: McpToolRef,
    args: Record<string, unknown>,
    ctx: { session_id: string | null; signal: AbortSignal },
  ): Promise<ToolResult>;
  helper(
    name: (typeof MCP_HELPERS)[number],
    args: Record<string, unknown>,
    ctx: { session_id: string | null; signal: AbortSignal },
  ): Promise<ToolResult>;
}

export function remoteToolDefinition(ref: McpToolRef, remote: RemoteTool, caller: McpCaller): ToolDefinition {
  const schema =
    remote.inputSchema && typeof remote.inputSchema === 'object'
      ? (capJson(remote.inputSchema) as Record<string, unknown>)
      : { type: 'object' };
  return {
    name: ref.qualified,
    description: `[MCP server ${ref.server}] ${(remote.description ?? ref.tool).slice(0, 2000)}`,
    input_schema: schema,
    side_effects: !ref.readOnly,
    read_only: ref.readOnly,
    audit_kind: 'mcp_tool',
    execute: (args, ctx) => caller.callTool(ref, args, { session_id: ctx.session_id, signal: ctx.signal }),
  };
}

const serverArg = { type: 'string', description: 'MCP server name (as in the runtime inventory)' };
const cursorArg = { type: 'string', description: 'pagination cursor from a previous call' };

export function helperDefinitions(caller: McpCaller): ToolDefinition[] {
  const def = (
    name: (typeof MCP_HELPERS)[number],
    description: string,
    properties: Record<string, unknown>,
    required: string[],
  ): ToolDefinition => ({
    name,
    description,
    input_schema: { type: 'object', properties, required, additionalProperties: false },
    side_effects: false,
    read_only: true,
    audit_kind: 'mcp_tool',
    execute: (args, ctx) => caller.helper(name, args, { session_id: ctx.session_id, signal: ctx.signal }),
  });
  return [
    def(
      'list_mcp_resources',
      'List the resources MCP servers offer (all visible servers, or one).',
      { server: serverArg, cursor: cursorArg },
      [],
    ),
    def(
      'list_mcp_resource_templates',
      'List the resource templates MCP servers offer (all visible servers, or one).',
      { server: serverArg, cursor: cursorArg },
      [],
    ),
    def(
      'read_mcp_resource',
      'Read one resource of an MCP server by URI.',
      { server: serverArg, uri: { type: 'string', description: 'resource URI' } },
      ['server', 'uri'],
    ),
  ];
}
