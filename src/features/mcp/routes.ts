// HTTP binding of the operator's MCP tool call (`kheish-daemon mcp tools call`). A POST, so
// admin-only under control-plane auth (src/http/auth.ts); docs/decisions.md #124 gives the route.
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HttpApp } from '../../http/context.ts';
import { clientGone } from '../../http/disconnect.ts';
import { AuthSlotStatusView } from '../secrets/schema.ts';
import { AddMcpServerBody } from './hot-add.ts';
import type { McpService } from './service.ts';

export const McpToolCallBody = z
  .object({
    name: z.string().min(1).describe('qualified tool name, e.g. mcp__github__get_me'),
    arguments: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export const McpToolCallResult = z
  .object({
    tool_name: z.string(),
    server: z.string(),
    tool: z.string(),
    is_error: z.boolean(),
    content: z.string(),
    structured_content: z.unknown().optional(),
  })
  .strict();

/** A completed MCP OAuth login (ops-runtime §5.5), written by `mcp oauth login`; never read back. */
export const McpOauthImport = z
  .object({
    slot_id: z.string().regex(/^mcp\./, 'slot_id must start with `mcp.`'),
    server_name: z.string().min(1),
    resource: z.string().url(),
    issuer: z.string().optional(),
    authorization_endpoint: z.string().url().optional(),
    token_endpoint: z.string().url().optional(),
    client_id: z.string().min(1).optional(),
    client_secret: z.string().min(1).optional(),
    access_token: z.string().min(1).optional(),
    refresh_token: z.string().min(1).optional(),
    expires_at_ms: z.number().int().optional(),
    scopes: z.array(z.string()).optional(),
  })
  .strict();
export type McpOauthImport = z.infer<typeof McpOauthImport>;

export function registerMcpRoutes(app: HttpApp, mcp: McpService, view: () => Record<string, unknown>): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  // Hot-add (hot-add.ts): a server connected on the running daemon, its tools in the registry.
  r.post(
    '/v1/runtime/mcp/servers',
    { schema: { tags: ['mcp'], body: AddMcpServerBody } },
    async (req, reply) => reply.code(201).send(await mcp.hot!.add(req.body, view)),
  );
  r.delete(
    '/v1/runtime/mcp/servers/:name',
    { schema: { tags: ['mcp'], params: z.object({ name: z.string().min(1) }) } },
    async (req) => mcp.hot!.remove(req.params.name, view),
  );
  r.post(
    '/v1/runtime/mcp/tools/call',
    { schema: { tags: ['mcp'], body: McpToolCallBody, response: { 200: McpToolCallResult } } },
    async (req, reply) => mcp.operatorCall(req.body.name, req.body.arguments ?? {}, clientGone(reply)),
  );
  r.post(
    '/v1/runtime/auth/accounts/mcp-oauth',
    { schema: { tags: ['mcp'], body: McpOauthImport, response: { 200: AuthSlotStatusView } } },
    async (req) => mcp.importOauthAccount(req.body),
  );
}
