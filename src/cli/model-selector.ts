// The route-aware model selector (ops-runtime §4.4) is a CLI convenience: `--model <route>/<model>`
// names the route too. The HTTP API never parses it (`provider` is the route id and `model` is sent
// as given), so a model name with slashes such as `openai/gpt-5.4-mini` reaches OpenRouter intact.
import type { DaemonClient } from '../sdk/client.ts';
import { UsageError } from './errors.ts';

export interface ModelFlags {
  provider?: string;
  model?: string;
  fallbackModel?: string;
}

/**
 * Splits `<route_id>/<model>` when the prefix is a known route id (the first `/` separates, so the
 * model may contain more), else keeps the value as a raw model. Pure, for the unit tests.
 */
export function splitModelSelector(flags: ModelFlags, routeIds: ReadonlySet<string>): ModelFlags {
  const out: ModelFlags = { ...flags };
  const primary = flags.model === undefined ? undefined : split(flags.model, routeIds);
  if (primary) {
    if (flags.provider !== undefined && flags.provider !== primary.route)
      throw new UsageError(
        `--model names route \`${primary.route}\` but --provider is \`${flags.provider}\``,
        `drop --provider, or pass the model without the route: --provider ${flags.provider} --model ${primary.model}`,
      );
    out.provider = primary.route;
    out.model = primary.model;
  }
  const fallback = flags.fallbackModel === undefined ? undefined : split(flags.fallbackModel, routeIds);
  if (fallback) {
    // The fallback model runs on the run's route: a selector may only repeat that route.
    const route = out.provider;
    if (route !== undefined && route !== fallback.route)
      throw new UsageError(
        `--fallback-model names route \`${fallback.route}\` but the run's route is \`${route}\``,
        `the fallback model runs on the same route: --fallback-model ${fallback.model}`,
      );
    out.fallbackModel = fallback.model;
  }
  return out;
}

function split(value: string, routeIds: ReadonlySet<string>): { route: string; model: string } | null {
  const slash = value.indexOf('/');
  if (slash <= 0 || !routeIds.has(value.slice(0, slash))) return null;
  const route = value.slice(0, slash);
  const model = value.slice(slash + 1);
  if (model.length === 0)
    throw new UsageError(
      `model selector \`${value}\` names route \`${route}\` but no model`,
      `write \`${route}/<model>\`, or pass --provider ${route} alone to use its default model`,
    );
  return { route, model };
}

/** Resolves the selector flags against the daemon's routes; asks the daemon only when a value has a `/`. */
export async function resolveModelFlags<T extends ModelFlags>(client: DaemonClient, flags: T): Promise<T> {
  if (!flags.model?.includes('/') && !flags.fallbackModel?.includes('/')) return flags;
  const routes = (await client.request('GET', '/v1/runtime/routes')) as Array<{ route_id: string }>;
  return { ...flags, ...splitModelSelector(flags, new Set(routes.map((r) => r.route_id))) };
}
