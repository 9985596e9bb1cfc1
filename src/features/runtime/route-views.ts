// The route entries of GET /v1/runtime/routes, GET /v1/runtime and the status readiness section:
// readiness, the default, where the route comes from, and its capability flags (matrix version 2).
import { CAPABILITY_FLAGS } from '../../config/routes-file.ts';
import type { RouteInventory } from '../../models/route-inventory.ts';
import { DRIVER_CAPABILITIES } from './route-capabilities.ts';
import type { RouteEntry } from './status-figures.ts';

export function routeViews(routes: RouteInventory): RouteEntry[] {
  return routes.list().map((r) => {
    const isDefault = r.config.route_id === routes.defaultRoute;
    const entry: RouteEntry = {
      route_id: r.config.route_id,
      // The backend family, as in the published status; `driver` is the routes-file key.
      provider: r.config.driver,
      driver: r.config.driver,
      model: (isDefault ? routes.defaultModel : null) ?? r.config.default_model,
      readiness: r.readiness,
      is_default: isDefault,
      builtin_demo: r.builtin_demo,
      // Where it comes from: the routes file, the built-in demo, or POST /v1/runtime/routes.
      source: routes.isLive(r.config.route_id) ? 'runtime_api' : r.builtin_demo ? 'builtin' : 'routes_file',
      matrix_version: 2,
      ...DRIVER_CAPABILITIES[r.config.driver],
    };
    for (const flag of CAPABILITY_FLAGS)
      if (r.config.capabilities[flag] !== undefined) entry[flag] = r.config.capabilities[flag];
    if (r.config.auth_ref) entry.auth_ref = r.config.auth_ref;
    if (r.reason) entry.reason = r.reason;
    if (r.action) entry.action = r.action;
    return entry;
  });
}
