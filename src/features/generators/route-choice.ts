// Which route a generator call runs on: the call's `provider` (a route id) when it offers the
// capability, else the run's own route when it does, else the first ready route that does. The
// credential broker's gate applies as to any provider call of the run.
import type { CapabilityFlag } from '../../config/routes-file.ts';
import type { Engine } from '../../engine/engine.ts';
import { routeHas } from '../../models/capabilities.ts';
import {
  createMediaModels,
  DEFAULT_MEDIA_MODELS,
  MEDIA_DRIVERS,
  type MediaModels,
} from '../../models/media-models.ts';
import type { RunRow } from '../../store/repos/runs.ts';

export class GeneratorError extends Error {}

export interface ChosenRoute {
  route_id: string;
  model: string;
  models: MediaModels;
}

export async function chooseRoute(
  engine: Engine,
  run: RunRow,
  flag: CapabilityFlag,
  kind: 'image' | 'speech',
  asked: { provider?: string; model?: string },
): Promise<ChosenRoute> {
  const usable = (id: string) => {
    const r = engine.routes.get(id);
    return (
      r !== undefined &&
      r.readiness !== 'error' &&
      routeHas(r.config, flag) &&
      MEDIA_DRIVERS.has(r.config.driver)
    );
  };
  let routeId: string | undefined;
  if (asked.provider !== undefined) {
    const r = engine.routes.get(asked.provider);
    if (!r) throw new GeneratorError(`route \`${asked.provider}\` is not configured`);
    if (!routeHas(r.config, flag))
      throw new GeneratorError(`route \`${asked.provider}\` does not offer ${flag}`);
    if (!MEDIA_DRIVERS.has(r.config.driver))
      throw new GeneratorError(
        `route \`${asked.provider}\` (driver ${r.config.driver}) has no ${flag} adapter in this daemon`,
      );
    if (r.readiness === 'error')
      throw new GeneratorError(`route \`${asked.provider}\` is not ready: ${r.reason}`);
    routeId = asked.provider;
  } else if (usable(run.route_id)) routeId = run.route_id;
  else routeId = engine.routes.list().find((r) => usable(r.config.route_id))?.config.route_id;
  if (routeId === undefined)
    throw new GeneratorError(
      `no configured route offers ${flag}; add an OpenAI route (or set ${flag} = true on one) in the routes file`,
    );
  const refusal = (await engine.credentialGate?.authorizeRoute(run, routeId)) ?? null;
  if (refusal) throw new GeneratorError(`${refusal.code}: ${refusal.message}`);
  const creds = engine.routes.credentialsFor(routeId);
  if (!creds) throw new GeneratorError(`route \`${routeId}\` has no usable credentials`);
  const route = engine.routes.get(routeId)!.config;
  const model = asked.model ?? DEFAULT_MEDIA_MODELS[route.driver]![kind];
  return { route_id: routeId, model, models: createMediaModels(route, creds) };
}
