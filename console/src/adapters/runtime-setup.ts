// The wizard's way to add model routes and MCP servers at run time. The SDK methods
// (`client.runtime.addRoute/deleteRoute`, `client.mcp.addServer/removeServer`) come with the
// `kheish-daemon up` work of issue 21; this adapter finds them on the client when they are there and
// says plainly when they are not, so the wizard works on both kinds of daemon and SDK.
import type { Kheish } from '../api.ts';

/** What the wizard sends for a provider route (the key goes to the daemon's encrypted store). */
export interface AddRouteBody {
  route_id: string;
  provider: string;
  default_model: string;
  /** Write-only: never shown again, never kept by the page. */
  api_key?: string;
  base_url?: string;
  /** Makes it the daemon's default route. */
  make_default?: boolean;
}

/** An MCP server to start and load (stdio command or streamable HTTP URL). */
export interface AddMcpServerBody {
  name: string;
  command?: string;
  args?: string[];
  url?: string;
  /** Write-only environment (tokens). */
  env?: Record<string, string>;
}

interface RouteMethods {
  addRoute(body: AddRouteBody): Promise<unknown>;
  deleteRoute(routeId: string): Promise<unknown>;
}

interface McpMethods {
  addServer(body: AddMcpServerBody): Promise<unknown>;
  removeServer(name: string): Promise<unknown>;
}

export interface RuntimeSetup {
  /** Null when this SDK or daemon cannot add routes at run time. */
  routes: RouteMethods | null;
  /** Null when this SDK or daemon cannot add MCP servers at run time. */
  mcp: McpMethods | null;
}

const has = <K extends string>(o: object, ...names: K[]): o is Record<K, (...a: any[]) => Promise<unknown>> =>
  names.every((n) => typeof (o as Record<string, unknown>)[n] === 'function');

export function runtimeSetup(client: Kheish): RuntimeSetup {
  const runtime: object = client.runtime;
  const mcp: object = client.mcp;
  return {
    routes: has(runtime, 'addRoute', 'deleteRoute')
      ? {
          addRoute: (body) => runtime.addRoute(body),
          deleteRoute: (id) => runtime.deleteRoute(id),
        }
      : null,
    mcp: has(mcp, 'addServer', 'removeServer')
      ? {
          addServer: (body) => mcp.addServer(body),
          removeServer: (name) => mcp.removeServer(name),
        }
      : null,
  };
}
