// Small helpers shared by the provider modules: credentials type, base URL rule, extra keys.
import type { RouteConfig } from '../../config/routes-file.ts';

export interface ProviderCredentials {
  apiKey?: string;
  /** OpenAI only: `OpenAI-Organization` / `OpenAI-Project` headers. */
  organization?: string;
  project?: string;
}

/** A route that cannot produce a driver at all (missing key, missing base_url, bad value). */
export class ProviderConfigError extends Error {
  readonly route_id: string;
  constructor(route: RouteConfig, message: string) {
    super(`route \`${route.route_id}\` (${route.driver}): ${message}`);
    this.name = 'ProviderConfigError';
    this.route_id = route.route_id;
  }
}

/**
 * `base_url` is the provider's API root (`https://api.anthropic.com/v1`, `http://host:11434/v1`).
 * A bare origin gets the provider's usual version path, because that is how other tools spell
 * it (`ANTHROPIC_BASE_URL=https://api.anthropic.com`) and a missing `/v1` would only show up as
 * confusing 404s at the first call.
 */
export function apiRoot(baseUrl: string | undefined, versionPath: string): string | undefined {
  if (baseUrl === undefined) return undefined;
  const url = new URL(baseUrl);
  const path = url.pathname.replace(/\/+$/, '');
  return `${url.origin}${path === '' ? versionPath : path}`;
}

export function extraString(route: RouteConfig, key: string): string | undefined {
  const v = route.extra[key];
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

export function requireApiKey(route: RouteConfig, creds: ProviderCredentials): string {
  if (creds.apiKey) return creds.apiKey;
  throw new ProviderConfigError(route, 'no API key (set auth_ref, api_key_env or api_key)');
}
