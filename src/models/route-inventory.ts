// Route inventory: which routes exist, whether each is ready, and which driver serves it.
// Route resolution for a submit (precedence) also lives here.

import { createHash } from 'node:crypto';
import type { RouteConfig, RoutesConfig } from '../config/routes-file.ts';
import { recordingDriver } from './cassette.ts';
import type { ModelDriver } from './driver.ts';
import {
  createProviderDriver,
  ProviderConfigError,
  type ProviderCredentials,
  resolveCredentials,
  type SecretValue,
} from './drivers/index.ts';
import { loadScript, ScriptedDriver } from './drivers/scripted.ts';

export type Readiness = 'ok' | 'warning' | 'error';

export interface RouteState {
  config: RouteConfig;
  readiness: Readiness;
  reason: string | null;
  action: string | null;
  driver: ModelDriver | null;
  builtin_demo: boolean;
  /** Digest of the credentials the driver holds; null for routes without credentials. */
  credentialKey: string | null;
}

export interface ResolvedRoute {
  route_id: string;
  model: string;
}

export class RouteResolutionError extends Error {
  readonly code: 'route_not_ready' | 'unknown_route';
  constructor(code: RouteResolutionError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

export class RouteInventory {
  defaultRoute: string;
  /** Model chosen with POST /v1/runtime/model for the default route (else its default_model). */
  defaultModel: string | null = null;
  /** The routes file's default_route: what the default returns to when no runtime revision sets one. */
  readonly configuredDefault: string;
  readonly routesFile: string | null;
  private readonly routes = new Map<string, RouteState>();

  private readonly sources: CredentialSources;
  private readonly recordCassetteDir: string | null;
  private readonly builtin: boolean;
  /** Routes added through the runtime API (POST /v1/runtime/routes), in the order they were added. */
  private readonly live = new Set<string>();

  constructor(
    config: RoutesConfig,
    opts: { recordCassetteDir?: string | null; credentials?: CredentialSources } = {},
  ) {
    this.defaultRoute = config.default_route;
    this.configuredDefault = config.default_route;
    this.routesFile = config.path;
    this.builtin = config.path === null;
    this.sources = opts.credentials ?? { env: process.env };
    this.recordCassetteDir = opts.recordCassetteDir ?? null;
    for (const route of config.routes.values()) this.routes.set(route.route_id, this.build(route));
  }

  private build(route: RouteConfig): RouteState {
    const state = buildState(route, this.builtin && !this.live.has(route.route_id), this.sources);
    if (state.driver && this.recordCassetteDir)
      state.driver = recordingDriver(state.driver, route.route_id, this.recordCassetteDir);
    return state;
  }

  /**
   * Re-reads a provider route's credentials (a secret slot may have been set, rotated or
   * deleted since boot) and rebuilds its driver when they changed.
   */
  refresh(routeId: string): RouteState | undefined {
    const state = this.routes.get(routeId);
    if (!state || state.config.driver === 'scripted') return state;
    const next = buildState(state.config, this.builtin && !this.live.has(routeId), this.sources);
    if (next.readiness === state.readiness && next.credentialKey === state.credentialKey) return state;
    const rebuilt = this.build(state.config);
    this.routes.set(routeId, rebuilt);
    return rebuilt;
  }

  /**
   * Puts the runtime-added routes in force (a revision, a rollback, the record at boot): adds the new
   * ones, rebuilds changed ones, drops the ones no longer listed. File routes are never touched.
   */
  syncLive(configs: RouteConfig[]): void {
    const wanted = new Map(configs.map((c) => [c.route_id, c]));
    for (const id of [...this.live])
      if (!wanted.has(id)) {
        this.live.delete(id);
        this.routes.delete(id);
      }
    for (const config of configs) {
      const current = this.routes.get(config.route_id);
      if (current && !this.live.has(config.route_id)) continue; // a file route of that name wins
      if (!current || JSON.stringify(current.config) !== JSON.stringify(config)) {
        this.live.add(config.route_id);
        this.routes.set(config.route_id, this.build(config));
      }
    }
    if (!this.routes.has(this.defaultRoute)) this.resetDefault();
  }

  /** Whether a route was added through the runtime API (and may be removed through it). */
  isLive(routeId: string): boolean {
    return this.live.has(routeId);
  }

  /**
   * The default when no revision chooses one: the file's default_route, else the first route
   * (the first one added on a daemon that started with none), else none.
   */
  resetDefault(): void {
    this.defaultModel = null;
    this.defaultRoute = this.routes.has(this.configuredDefault)
      ? this.configuredDefault
      : ([...this.routes.keys()][0] ?? '');
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
    return this.routesFile === null && this.routes.get('scripted')?.builtin_demo === true;
  }

  list(): RouteState[] {
    return [...this.routes.values()];
  }

  get(routeId: string): RouteState | undefined {
    return this.routes.get(routeId);
  }

  /**
   * Precedence: run override > session route policy > daemon default. On the API `provider` is
   * the route id and `model` is kept as given (`openai/gpt-5.4-mini` on route `openrouter` is an
   * OpenRouter model name): only the CLI parses `<route>/<model>` selectors (src/cli/model-selector.ts).
   */
  resolve(
    override: { provider?: string; model?: string },
    policy: { provider?: string; model?: string } | null,
  ): ResolvedRoute {
    const usesDefault = override.provider === undefined && policy?.provider === undefined;
    const routeId = override.provider ?? policy?.provider ?? this.defaultRoute;
    const model =
      override.model ??
      (override.provider === undefined ? policy?.model : undefined) ??
      (usesDefault ? (this.defaultModel ?? undefined) : undefined);
    if (this.routes.size === 0)
      throw new RouteResolutionError(
        'route_not_ready',
        'the daemon has no model route yet: add one with POST /v1/runtime/routes (`kheish-daemon runtime routes add`, or the console at /), or start with --routes-file',
      );
    const state = this.refresh(routeId);
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

  /** The route's provider credentials now (secret slots re-read); null when it has none usable. */
  credentialsFor(routeId: string): ProviderCredentials | null {
    const state = this.refresh(routeId);
    if (!state || state.config.driver === 'scripted') return null;
    const creds = resolveCredentials(state.config, this.sources.env, this.sources.secretLookup);
    if (creds.missing) return null;
    const { missing: _m, source: _s, ...providerCreds } = creds;
    return providerCreds;
  }

  driverFor(routeId: string): ModelDriver {
    const state = this.routes.get(routeId);
    if (!state?.driver)
      throw new RouteResolutionError('route_not_ready', `route \`${routeId}\` has no usable driver`);
    return state.driver;
  }
}

export interface CredentialSources {
  env: NodeJS.ProcessEnv;
  /** Reads an `auth_ref` slot from the secret store (undefined when absent). */
  secretLookup?: (ref: string) => SecretValue | undefined;
}

const notReady = (route: RouteConfig, reason: string, action: string, builtin = false): RouteState => ({
  config: route,
  readiness: 'error',
  reason,
  action,
  driver: null,
  builtin_demo: builtin,
  credentialKey: null,
});

/** What to tell the operator for each way a key can be missing. */
function credentialAction(route: RouteConfig): string {
  if (route.auth_ref)
    return `store the key with \`kheish-daemon secrets set ${route.auth_ref} --provider ${route.driver}\` (see docs/providers.md)`;
  if (route.api_key_env) return `export ${route.api_key_env}=<key> before starting the daemon`;
  return 'add auth_ref (recommended) or api_key_env to the route';
}

function buildState(route: RouteConfig, builtin: boolean, sources: CredentialSources): RouteState {
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
        credentialKey: null,
      };
    } catch (err) {
      return notReady(route, (err as Error).message, 'fix the script file and restart the daemon', builtin);
    }
  }
  const creds = resolveCredentials(route, sources.env, sources.secretLookup);
  if (creds.missing) return notReady(route, creds.missing, credentialAction(route));
  try {
    const { missing: _m, source: _s, ...providerCreds } = creds;
    return {
      config: route,
      readiness: 'ok',
      reason: null,
      action: null,
      driver: createProviderDriver(route, providerCreds),
      builtin_demo: false,
      credentialKey: credentialKey(providerCreds),
    };
  } catch (err) {
    if (err instanceof ProviderConfigError)
      return notReady(route, err.message, 'fix the route in the routes file and restart');
    throw err;
  }
}

/** A digest of the credentials a driver was built with, to notice rotation without keeping keys around twice. */
function credentialKey(c: { apiKey?: string; organization?: string; project?: string }): string {
  return createHash('sha256')
    .update(JSON.stringify([c.apiKey ?? '', c.organization ?? '', c.project ?? '']))
    .digest('hex');
}
