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

/** An MCP server to add on a running daemon (POST /v1/runtime/mcp/servers). */
export interface AddMcpServerRequest {
  name: string;
  /** The `[mcp_servers.<name>]` keys: `command`, `args`, `env`, `cwd` (stdio) or `url`, `headers` (HTTP). */
  config: JsonObject;
  /** Values stored encrypted as `mcp.custom.<name>.<KEY>`; never returned. */
  secrets?: { env?: Record<string, string>; headers?: Record<string, string>; bearer_token?: string };
  expected_revision?: number;
  skip_hooks?: boolean;
}

export class McpResource {
  private readonly http: DaemonClient;

  constructor(http: DaemonClient) {
    this.http = http;
  }

  inventory(): Promise<JsonObject> {
    return mcpInventory(this.http);
  }

  /** Adds an MCP server to the running daemon; resolves with its `mcp.servers` entry once connected. */
  addServer(body: AddMcpServerRequest): Promise<JsonObject> {
    return this.http.request('POST', '/v1/runtime/mcp/servers', {
      body: body as unknown as JsonObject,
    }) as Promise<JsonObject>;
  }

  /** Removes a server added at runtime: disconnects it, drops its tools and stored secrets. */
  removeServer(name: string): Promise<JsonObject> {
    return this.http.request(
      'DELETE',
      `/v1/runtime/mcp/servers/${encodeURIComponent(name)}`,
    ) as Promise<JsonObject>;
  }

  callTool(name: string, args: JsonObject = {}): Promise<McpToolCallResult> {
    return callMcpTool(this.http, name, args);
  }
}
