// The wizard's way to add model routes and MCP servers to the running daemon, through the SDK
// (`client.runtime.addRoute/deleteRoute/setModel`, `client.mcp.addServer/removeServer`): the
// wizard speaks in provider cards and tool cards, this file turns them into API requests.
import type { AddMcpServerRequest, AddRouteRequest } from '../../../src/sdk/index.ts';
import type { Kheish } from '../api.ts';

export interface ProviderChoice {
  routeId: string;
  /** The route's driver: openai, anthropic, google, openrouter, xai or openai_compatible. */
  provider: string;
  model: string;
  /** Write-only: goes to the daemon's encrypted store; the page does not keep it. */
  apiKey?: string;
  baseUrl?: string;
}

export interface McpCard {
  name: string;
  command: string;
  args: string[];
}

/**
 * Adds the route and makes it the default (the daemon makes only a first route its default on
 * its own; a user who picks a provider in the wizard means to use it).
 */
export async function addProviderRoute(client: Kheish, choice: ProviderChoice): Promise<void> {
  const body: AddRouteRequest = {
    route_id: choice.routeId,
    provider: choice.provider,
    model: choice.model,
    ...(choice.apiKey ? { api_key: choice.apiKey } : {}),
    ...(choice.baseUrl ? { base_url: choice.baseUrl } : {}),
  };
  const added = await client.runtime.addRoute(body);
  if (added.default_route !== choice.routeId)
    await client.runtime.setModel({ provider: choice.routeId, model: choice.model });
}

export function removeProviderRoute(client: Kheish, routeId: string): Promise<unknown> {
  return client.runtime.deleteRoute(routeId);
}

/** Starts the server on the daemon; resolves once it is connected (its tools are then live). */
export function addMcpServer(client: Kheish, card: McpCard): Promise<unknown> {
  const body: AddMcpServerRequest = { name: card.name, config: { command: card.command, args: card.args } };
  return client.mcp.addServer(body);
}

export function removeMcpServer(client: Kheish, name: string): Promise<unknown> {
  return client.mcp.removeServer(name);
}
