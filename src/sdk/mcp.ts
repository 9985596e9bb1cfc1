// MCP operator calls (POST /v1/runtime/mcp/tools/call, docs/mcp.md), as functions over
// DaemonClient.request, and the `mcp` resource of the Kheish client.
import type { DaemonClient } from './client.ts';
import type { JsonObject } from './types.ts';

export interface McpToolCallResult {
  tool_name: string;
  server: string;
  tool: string;
  is_error: boolean;
  /** The result as the model would see it: labelled untrusted, capped. */
  content: string;
  structured_content?: unknown;
}

/** Calls a daemon-loaded MCP tool by its qualified name (admin; no permission step, no run). */
export async function callMcpTool(
  client: DaemonClient,
  name: string,
  args: JsonObject = {},
): Promise<McpToolCallResult> {
  return (await client.request('POST', '/v1/runtime/mcp/tools/call', {
    body: { name, arguments: args },
  })) as McpToolCallResult;
}

/** The `mcp` section of GET /v1/runtime: servers, their state and the tool names. */
export async function mcpInventory(client: DaemonClient): Promise<JsonObject> {
  const runtime = (await client.request('GET', '/v1/runtime')) as { mcp?: JsonObject };
  return runtime.mcp ?? {};
}

export class McpResource {
  private readonly http: DaemonClient;

  constructor(http: DaemonClient) {
    this.http = http;
  }

  inventory(): Promise<JsonObject> {
    return mcpInventory(this.http);
  }

  callTool(name: string, args: JsonObject = {}): Promise<McpToolCallResult> {
    return callMcpTool(this.http, name, args);
  }
}
