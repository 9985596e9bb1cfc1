// Route inventory: which routes exist, whether each is ready, and which driver serves it.
// Route resolution for a submit (precedence + selector grammar) also lives here.
import type { RouteConfig, RoutesConfig } from '../config/routes-file.ts';
import { recordingDriver } from './cassette.ts';
import type { ModelDriver } from './driver.ts';
import { loadScript, ScriptedDriver } from './drivers/scripted.ts';

export type Readiness = 'ok' | 'warning' | 'error';

export interface RouteState {
  config: RouteConfig;
  readiness: Readiness;
  reason: string | null;
  action: string | null;
  driver: ModelDriver | null;
  builtin_demo: boolean;
}

export interface ResolvedRoute {
  route_id: string;
  model: string;
}

export class RouteResolutionError extends Error {
  readonly code: 'route_not_ready' | 'unknown_route' | 'invalid_model_selector';
  constructor(code: RouteResolutionError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

export class RouteInventory {
  defaultRoute: string;
  /** Model chosen with POST /v1/runtime/model for the default route (else its default_model). */
  defaultModel: string | null = null;
  readonly routesFile: string | null;
  private readonly routes = new Map<string, RouteState>();

  constructor(config: RoutesConfig, opts: { recordCassetteDir?: string | null } = {}) {
    this.defaultRoute = config.default_route;
    this.routesFile = config.path;
    for (const route of config.routes.values()) {
      const state = buildState(route, config.path === null);
      if (state.driver && opts.recordCassetteDir)
        state.driver = recordingDriver(state.driver, route.route_id, opts.recordCassetteDir);
      this.routes.set(route.route_id, state);
    }
  }

  /** Changes the daemon default for future runs; pinned runs and session policies are untouched. */
  setDefault(routeId: string, model: string | null): void {
    if (!this.routes.has(routeId))
      throw new RouteResolutionError(
        'unknown_route',
        `route \`${routeId}\` is not configured; known routes: ${[...this.routes.keys()].join(', ')}`,
      );
    this.defaultRoute = routeId;
    this.defaultModel = model;
  }

  get isBuiltinDemo(): boolean {
    return this.routesFile === null;
  }

  list(): RouteState[] {
    return [...this.routes.values()];
  }

  get(routeId: string): RouteState | undefined {
    return this.routes.get(routeId);
  }

  /**
   * Precedence: run override > session route policy > daemon default. A model selector
   * `<route_id>/<model>` picks the route when its prefix names a known route.
   */
  resolve(
    override: { provider?: string; model?: string },
    policy: { provider?: string; model?: string } | null,
  ): ResolvedRoute {
    const usesDefault = override.provider === undefined && policy?.provider === undefined;
    let routeId = override.provider ?? policy?.provider ?? this.defaultRoute;
    let model =
      override.model ??
      (override.provider === undefined ? policy?.model : undefined) ??
      (usesDefault ? (this.defaultModel ?? undefined) : undefined);
    if (model !== undefined) {
      const slash = model.indexOf('/');
      if (slash > 0 && this.routes.has(model.slice(0, slash))) {
        const prefix = model.slice(0, slash);
        if (override.provider !== undefined && override.provider !== prefix)
          throw new RouteResolutionError(
            'invalid_model_selector',
            `model selector names route \`${prefix}\` but provider is \`${override.provider}\``,
          );
        routeId = prefix;
        model = model.slice(slash + 1);
        if (model.length === 0)
          throw new RouteResolutionError(
            'invalid_model_selector',
            `model selector \`${prefix}/\` has an empty model`,
          );
      }
    }
    const state = this.routes.get(routeId);
    if (!state)
      throw new RouteResolutionError(
        'unknown_route',
        `route \`${routeId}\` is not configured; known routes: ${[...this.routes.keys()].join(', ')}`,
      );
    if (state.readiness === 'error')
      throw new RouteResolutionError(
        'route_not_ready',
        `route \`${routeId}\` is not ready: ${state.reason}. Action: ${state.action}`,
      );
    return { route_id: routeId, model: model ?? state.config.default_model };
  }

  driverFor(routeId: string): ModelDriver {
    const state = this.routes.get(routeId);
    if (!state?.driver)
      throw new RouteResolutionError('route_not_ready', `route \`${routeId}\` has no usable driver`);
    return state.driver;
  }
}

function buildState(route: RouteConfig, builtin: boolean): RouteState {
  if (route.driver === 'scripted') {
    try {
      const script = route.script_file ? loadScript(route.script_file) : null;
      return {
        config: route,
        readiness: 'ok',
        reason: null,
        action: null,
        driver: new ScriptedDriver(script),
        builtin_demo: builtin,
      };
    } catch (err) {
      return {
        config: route,
        readiness: 'error',
        reason: (err as Error).message,
        action: 'fix the script file and restart the daemon',
        driver: null,
        builtin_demo: builtin,
      };
    }
  }
  return {
    config: route,
    readiness: 'error',
    reason: `driver \`${route.driver}\` is not available in this build yet`,
    action: 'use a scripted route for now; provider drivers are being added',
    driver: null,
    builtin_demo: false,
  };
}
