// Routes file (TOML): parsing and validation only. No I/O beyond reading the file.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'smol-toml';

export const DRIVERS = [
  'scripted',
  'anthropic',
  'openai',
  'google',
  'xai',
  'openrouter',
  'openai_compatible',
] as const;
export type DriverName = (typeof DRIVERS)[number];

export interface RouteConfig {
  route_id: string;
  driver: DriverName;
  default_model: string;
  auth_ref?: string;
  api_key?: string;
  api_key_env?: string;
  base_url?: string;
  model_support?: 'family' | 'any';
  /** scripted only: absolute path of the JSON script; absent = echo. */
  script_file?: string;
  /** Per model call; a call running longer fails as a retryable timeout. */
  timeout_ms?: number;
  /** Consecutive retryable failures tolerated on this route before falling back (default 3). */
  max_retries: number;
  /** Routes tried in order when this one keeps failing. */
  fallback_routes: string[];
  /** Compaction triggers at 80 % of this many estimated tokens; 0 = never. */
  context_window_tokens: number;
  pricing?: { input_usd_per_mtok: number; output_usd_per_mtok: number; cached_input_usd_per_mtok?: number };
  capabilities: Partial<Record<CapabilityFlag, boolean>>;
  extra: Record<string, unknown>;
}

export const CAPABILITY_FLAGS = [
  'multimodal_input',
  'native_web_search',
  'image_generation',
  'image_edit',
  'audio_generation',
  'transcription',
] as const;
export type CapabilityFlag = (typeof CAPABILITY_FLAGS)[number];

export interface RoutesConfig {
  version: 1;
  default_route: string;
  routes: Map<string, RouteConfig>;
  /** Canonical path of the file, or null for the built-in demo route. */
  path: string | null;
}

const ROUTE_KEYS = new Set([
  'driver',
  'default_model',
  'auth_ref',
  'api_key',
  'api_key_env',
  'model_support',
  'base_url',
  'organization',
  'organization_env',
  'project',
  'project_env',
  'openai_auth_source',
  'openai_auth_file',
  'anthropic_auth_source',
  'anthropic_credentials_file',
  'anthropic_version',
  'anthropic_beta_headers',
  'script_file',
  'openai_api',
  'timeout_ms',
  'max_retries',
  'fallback_routes',
  'context_window_tokens',
  'pricing',
  ...CAPABILITY_FLAGS,
]);

export class RoutesFileError extends Error {}

export const DEFAULT_MAX_RETRIES = 3;

/** Context windows assumed when a route does not say (tokens); scripted routes never compact unless told. */
export const DEFAULT_CONTEXT_WINDOW: Record<DriverName, number> = {
  scripted: 0,
  anthropic: 200_000,
  openai: 400_000,
  google: 1_000_000,
  xai: 256_000,
  openrouter: 128_000,
  openai_compatible: 32_000,
};

const positiveInt = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v > 0;

function checkRouteNumbers(where: string, raw: Record<string, unknown>, problems: string[]): void {
  for (const key of ['timeout_ms', 'context_window_tokens'])
    if (
      raw[key] !== undefined &&
      !positiveInt(raw[key]) &&
      !(key === 'context_window_tokens' && raw[key] === 0)
    )
      problems.push(`${where}: ${key} must be a positive whole number`);
  if (
    raw.max_retries !== undefined &&
    !(Number.isInteger(raw.max_retries) && (raw.max_retries as number) >= 0)
  )
    problems.push(`${where}: max_retries must be a whole number >= 0`);
  if (
    raw.fallback_routes !== undefined &&
    !(Array.isArray(raw.fallback_routes) && raw.fallback_routes.every((r) => typeof r === 'string'))
  )
    problems.push(`${where}: fallback_routes must be a list of route ids`);
  if (raw.pricing !== undefined) {
    const p = raw.pricing as Record<string, unknown>;
    const keys = ['input_usd_per_mtok', 'output_usd_per_mtok', 'cached_input_usd_per_mtok'];
    if (typeof p !== 'object' || p === null) problems.push(`${where}: pricing must be a table`);
    else {
      for (const k of Object.keys(p))
        if (!keys.includes(k)) problems.push(`${where}.pricing: unknown field \`${k}\``);
      for (const k of keys.slice(0, 2))
        if (typeof p[k] !== 'number' || (p[k] as number) < 0)
          problems.push(`${where}.pricing: ${k} must be a number >= 0`);
    }
  }
}

/** The route a fresh daemon boots with when no routes file is given. */
export function builtinDemoRoutes(): RoutesConfig {
  return {
    version: 1,
    default_route: 'scripted',
    path: null,
    routes: new Map<string, RouteConfig>([
      [
        'scripted',
        {
          route_id: 'scripted',
          driver: 'scripted',
          default_model: 'echo',
          capabilities: {},
          extra: {},
          max_retries: DEFAULT_MAX_RETRIES,
          fallback_routes: [],
          context_window_tokens: 0,
        },
      ],
    ]),
  };
}

/** The inventory of a daemon started with --allow-empty-routes and no routes file (`up`'s onboarding). */
export function emptyRoutes(): RoutesConfig {
  return { version: 1, default_route: '', path: null, routes: new Map() };
}

export function loadRoutesFile(path: string, defaultRouteOverride?: string): RoutesConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new RoutesFileError(`cannot read routes file ${path}: ${(err as Error).message}`);
  }
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new RoutesFileError(`routes file ${path} is not valid TOML: ${(err as Error).message}`);
  }
  return validateRoutes(doc, resolve(path), defaultRouteOverride);
}

export function validateRoutes(doc: Record<string, unknown>, path: string, override?: string): RoutesConfig {
  const problems: string[] = [];
  for (const key of Object.keys(doc)) {
    if (!['version', 'default_route', 'routes'].includes(key))
      problems.push(`unknown top-level field \`${key}\``);
  }
  if (doc.version !== 1) problems.push('`version` must be 1');
  const routes = new Map<string, RouteConfig>();
  const table = (doc.routes ?? {}) as Record<string, Record<string, unknown>>;
  if (typeof table !== 'object' || Array.isArray(table))
    problems.push('`routes` must be a table of [routes.<id>]');
  for (const [id, raw] of Object.entries(table)) {
    const where = `[routes.${id}]`;
    if (id.length === 0 || /[/\s]/.test(id))
      problems.push(`${where}: route id must be non-empty, without "/" or spaces`);
    if (typeof raw !== 'object' || raw === null) {
      problems.push(`${where} must be a table`);
      continue;
    }
    for (const key of Object.keys(raw))
      if (!ROUTE_KEYS.has(key)) problems.push(`${where}: unknown field \`${key}\``);
    const driver = raw.driver as string;
    if (typeof driver !== 'string') problems.push(`${where}: \`driver\` is required`);
    else if (!(DRIVERS as readonly string[]).includes(driver))
      problems.push(`${where}: unknown driver \`${driver}\` (known: ${DRIVERS.join(', ')})`);
    if (typeof raw.default_model !== 'string' || raw.default_model.length === 0)
      problems.push(`${where}: \`default_model\` is required`);
    if (raw.base_url !== undefined) {
      const err = checkBaseUrl(raw.base_url);
      if (err) problems.push(`${where}: base_url ${err}`);
    }
    if (raw.model_support !== undefined && raw.model_support !== 'family' && raw.model_support !== 'any')
      problems.push(`${where}: model_support must be "family" or "any"`);
    if (raw.script_file !== undefined && driver !== 'scripted')
      problems.push(`${where}: script_file is only valid with driver = "scripted"`);
    checkRouteNumbers(where, raw, problems);
    const capabilities: Partial<Record<CapabilityFlag, boolean>> = {};
    for (const flag of CAPABILITY_FLAGS) {
      if (raw[flag] === undefined) continue;
      if (typeof raw[flag] !== 'boolean') problems.push(`${where}: ${flag} must be a boolean`);
      else capabilities[flag] = raw[flag] as boolean;
    }
    const extra: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(raw)) if (!['driver', 'default_model'].includes(k)) extra[k] = v;
    routes.set(id, {
      route_id: id,
      driver: driver as DriverName,
      default_model: String(raw.default_model ?? ''),
      auth_ref: raw.auth_ref as string | undefined,
      api_key: raw.api_key as string | undefined,
      api_key_env: raw.api_key_env as string | undefined,
      base_url: raw.base_url as string | undefined,
      model_support: raw.model_support as 'family' | 'any' | undefined,
      script_file:
        typeof raw.script_file === 'string'
          ? isAbsolute(raw.script_file)
            ? raw.script_file
            : resolve(dirname(path), raw.script_file)
          : undefined,
      capabilities,
      extra,
      timeout_ms: raw.timeout_ms as number | undefined,
      max_retries: (raw.max_retries as number | undefined) ?? DEFAULT_MAX_RETRIES,
      fallback_routes: (raw.fallback_routes as string[] | undefined) ?? [],
      context_window_tokens:
        (raw.context_window_tokens as number | undefined) ??
        DEFAULT_CONTEXT_WINDOW[driver as DriverName] ??
        0,
      pricing: raw.pricing as RouteConfig['pricing'],
    });
  }
  for (const route of routes.values()) {
    for (const fb of route.fallback_routes) {
      if (fb === route.route_id)
        problems.push(`[routes.${route.route_id}]: fallback_routes must not name the route itself`);
      else if (!routes.has(fb))
        problems.push(`[routes.${route.route_id}]: fallback route \`${fb}\` names no route`);
    }
  }
  if (routes.size === 0) problems.push('the routes file defines no [routes.<id>] table');
  let defaultRoute = typeof doc.default_route === 'string' ? doc.default_route : undefined;
  if (defaultRoute === undefined && routes.size > 1)
    problems.push('`default_route` is required when more than one route is defined');
  if (defaultRoute === undefined && routes.size === 1) defaultRoute = [...routes.keys()][0];
  if (defaultRoute !== undefined && routes.size > 0 && !routes.has(defaultRoute))
    problems.push(`default_route \`${defaultRoute}\` names no route`);
  if (override !== undefined) {
    if (!routes.has(override)) problems.push(`--default-route \`${override}\` names no route in the file`);
    else if (defaultRoute !== undefined) defaultRoute = override;
  }
  if (problems.length > 0)
    throw new RoutesFileError(`invalid routes file ${path}:\n  - ${problems.join('\n  - ')}`);
  return { version: 1, default_route: defaultRoute!, routes, path };
}

export function checkBaseUrl(value: unknown): string | null {
  if (typeof value !== 'string') return 'must be a string';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute http(s) URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must use http:// or https://';
  if (!url.hostname) return 'must have a host';
  if (url.username || url.password) return 'must not contain credentials';
  if (url.search || url.hash) return 'must not have a query or fragment';
  return null;
}
