// HTTP binding of the operator's MCP tool call (`kheish-daemon mcp tools call`). A POST, so
// admin-only under control-plane auth (src/http/auth.ts); docs/decisions.md #124 gives the route.
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HttpApp } from '../../http/context.ts';
import { clientGone } from '../../http/disconnect.ts';
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

export function registerMcpRoutes(app: HttpApp, mcp: McpService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.post(
    '/v1/runtime/mcp/tools/call',
    { schema: { tags: ['mcp'], body: McpToolCallBody, response: { 200: McpToolCallResult } } },
    async (req, reply) => mcp.operatorCall(req.body.name, req.body.arguments ?? {}, clientGone(reply)),
  );
}
