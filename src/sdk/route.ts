// Route selection for a submit: which configured route (the routes file's id) runs it, and
// optionally which model on that route. On the wire that is `provider` plus `generation.model`.
import type { JsonObject } from './types.ts';

export interface RouteSpec {
  /** The route id in the daemon's routes file (e.g. `openai`, `local`). */
  provider: string;
  /** A model the route accepts; the route's default_model without it. */
  model?: string;
}

/** A route id (`"openai"`) or a route with a model. */
export type RouteLike = string | RouteSpec;

const spec = (provider: string) => (model?: string) =>
  model === undefined ? { provider } : { provider, model };

/**
 * Builders for the usual route ids. They name routes, not vendors: `Route.openai('gpt-5.4')` works
 * when the routes file has a route called `openai`; use `Route.of(id, model)` for any other id.
 */
export const Route = {
  of: (provider: string, model?: string): RouteSpec => spec(provider)(model),
  openai: spec('openai'),
  anthropic: spec('anthropic'),
  google: spec('google'),
  xai: spec('xai'),
  openrouter: spec('openrouter'),
  ollama: spec('ollama'),
} satisfies Record<string, (...args: never[]) => RouteSpec>;

/** The submit-body fields for a route, merged into an existing `generation` when there is one. */
export function routeFields(route: RouteLike | undefined, generation?: JsonObject): JsonObject {
  if (route === undefined) return generation ? { generation } : {};
  const r = typeof route === 'string' ? { provider: route } : route;
  const fields: JsonObject = { provider: r.provider };
  if (r.model !== undefined) fields.generation = { ...generation, model: r.model };
  else if (generation) fields.generation = generation;
  return fields;
}
