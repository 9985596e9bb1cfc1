// Where a route's API key comes from. Pure: the environment and the secret store are passed in,
// so readiness checks, `doctor routes` and the daemon all reach the same verdict.
import type { RouteConfig } from '../../config/routes-file.ts';
import type { ProviderCredentials } from './route-options.ts';

/** A secret slot's value: a bare key, or the structured state the store keeps for OpenAI. */
export type SecretValue = string | { api_key?: string; organization?: string; project?: string };

export interface ResolvedCredentials extends ProviderCredentials {
  /** Why the route has no usable key; absent when it has one or needs none. */
  missing?: string;
  /** Where the key came from, for diagnostics (never the key itself). */
  source?: 'auth_ref' | 'api_key_env' | 'api_key' | 'account_slot' | 'none';
}

/** Drivers that talk to servers which may run without authentication (Ollama, vLLM, ...). */
const KEY_OPTIONAL = new Set(['openai_compatible', 'scripted']);

const ACCOUNT_AUTH: Record<string, { key: string; value: string }> = {
  openai: { key: 'openai_auth_source', value: 'codex' },
  anthropic: { key: 'anthropic_auth_source', value: 'claude_code' },
};

function fromSecret(value: SecretValue | undefined): ProviderCredentials | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value ? { apiKey: value } : undefined;
  if (!value.api_key) return undefined;
  const out: ProviderCredentials = { apiKey: value.api_key };
  if (value.organization) out.organization = value.organization;
  if (value.project) out.project = value.project;
  return out;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** `organization` / `organization_env` (and the same for `project`) only mean something on OpenAI. */
function openAiMetadata(route: RouteConfig, env: NodeJS.ProcessEnv): ProviderCredentials {
  if (route.driver !== 'openai') return {};
  const fromEnv = (key: string) => {
    const name = str(route.extra[key]);
    return name ? str(env[name]) : undefined;
  };
  const out: ProviderCredentials = {};
  const org = str(route.extra.organization) ?? fromEnv('organization_env');
  const project = str(route.extra.project) ?? fromEnv('project_env');
  if (org) out.organization = org;
  if (project) out.project = project;
  return out;
}

/**
 * Precedence: `auth_ref` (the recommended secret slot) > `api_key_env` > inline `api_key` >
 * the implicit `route.<route_id>` slot of account-auth routes. A configured source that turns
 * out empty is reported as missing rather than silently skipped, so a typo in an env var name
 * does not fall through to a different key.
 */
export function resolveCredentials(
  route: RouteConfig,
  env: NodeJS.ProcessEnv,
  secretLookup?: (ref: string) => SecretValue | undefined,
): ResolvedCredentials {
  const meta = openAiMetadata(route, env);
  // The routes file is more specific than the slot: its organization/project win.
  const merge = (c: ProviderCredentials, source: ResolvedCredentials['source']): ResolvedCredentials => ({
    ...c,
    ...meta,
    source,
  });
  if (route.auth_ref) {
    if (!secretLookup)
      return {
        ...meta,
        missing: `auth_ref \`${route.auth_ref}\` needs the secret store, which is not available`,
      };
    const c = fromSecret(secretLookup(route.auth_ref));
    return c
      ? merge(c, 'auth_ref')
      : { ...meta, missing: `secret slot \`${route.auth_ref}\` is missing or empty` };
  }
  if (route.api_key_env) {
    const v = str(env[route.api_key_env]);
    return v
      ? merge({ apiKey: v }, 'api_key_env')
      : { ...meta, missing: `environment variable \`${route.api_key_env}\` (api_key_env) is not set` };
  }
  if (route.api_key) return merge({ apiKey: route.api_key }, 'api_key');
  const account = ACCOUNT_AUTH[route.driver];
  if (account && route.extra[account.key] === account.value) {
    const slot = `route.${route.route_id}`;
    const c = secretLookup ? fromSecret(secretLookup(slot)) : undefined;
    return c
      ? merge(c, 'account_slot')
      : { ...meta, missing: `account slot \`${slot}\` is missing or empty` };
  }
  if (KEY_OPTIONAL.has(route.driver)) return { ...meta, source: 'none' };
  return { ...meta, missing: 'no credentials configured (set auth_ref, api_key_env or api_key)' };
}
