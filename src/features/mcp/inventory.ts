// The daemon-global MCP inventory at boot (ops-runtime §8.1–§8.3): explicit or discovered config,
// catalog profiles, and each entry's secrets resolved through the daemon's secret store. An entry
// whose secret cannot be resolved is kept in the inventory, skipped, with its error shown.
import {
  catalogSecretRef,
  catalogServerConfig,
  expandProfiles,
  normalizeProfiles,
} from '../../config/mcp-catalog.ts';
import {
  credentialServerNames,
  loadMcpConfigFile,
  McpConfigError,
  type McpServerConfig,
  resolveMcpSources,
  secretRefsOf,
} from '../../config/mcp-config.ts';
import type { ServeConfig } from '../../config/serve-options.ts';

/** `runtime_api`: added on a running daemon (POST /v1/runtime/mcp/servers, hot-add.ts). */
export type McpSource = 'codex_config' | 'built_in_catalog' | 'runtime_api';

export interface ServerPlan {
  config: McpServerConfig;
  source: McpSource;
  profiles: string[];
  catalog_entry_id: string | null;
  credential_secret_refs: string[];
  uses_credentials: boolean;
  /** The child's resolved environment additions (stdio): `env` plus `env_secret_refs` values. */
  env: Record<string, string>;
  /** Resolved request headers (HTTP), Authorization included. */
  headers: Record<string, string>;
  /** Why the entry is not started (a missing secret, OAuth at boot, `enabled = false`). */
  skip: string | null;
}

export interface Inventory {
  configPath: string | null;
  selectedProfiles: string[];
  plans: ServerPlan[];
  /** Every secret value resolved, so that traces and logs mask them. */
  secretValues: string[];
}

export const OAUTH_AT_BOOT = 'oauth_requires_scoped_runtime_initialization';

/** Secret values by slot; a lookup that fails says why in its message (never the value). */
export type SecretLookup = (slot: string) => Promise<string>;

export async function loadInventory(
  mcp: ServeConfig['mcp'],
  lookup: SecretLookup,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Inventory> {
  const sources = resolveMcpSources(mcp, env.HOME);
  const configs = sources.configPath ? loadMcpConfigFile(sources.configPath) : [];
  const oauthNames = sources.credentialsPath
    ? credentialServerNames(sources.credentialsPath)
    : new Set<string>();
  const selectedProfiles = normalizeProfiles(mcp.profiles);
  const expanded = expandProfiles(selectedProfiles);
  const secretValues: string[] = [];
  const resolveSecret = async (slot: string) => {
    const value = await lookup(slot);
    secretValues.push(value);
    return value;
  };
  const plans: ServerPlan[] = [];
  for (const config of configs)
    plans.push(await planCustom(config, oauthNames.has(config.name), resolveSecret, env));
  for (const { entry, profiles } of expanded) {
    const config = catalogServerConfig(entry);
    config.startup_timeout_ms = Math.min(config.startup_timeout_ms, mcp.catalogStartupTimeoutMs);
    const plan = basePlan(config, 'built_in_catalog', profiles, entry.id);
    // Optional bearer: the slot is used when it exists, the entry starts without it otherwise.
    for (const envName of entry.credential_env) {
      const slot = catalogSecretRef(entry.id, envName);
      const value = await resolveSecret(slot).catch(() => null);
      if (value === null) continue;
      plan.headers.Authorization = `Bearer ${value}`;
      plan.credential_secret_refs.push(slot);
      plan.uses_credentials = true;
      break;
    }
    plans.push(plan);
  }
  const seen = new Map<string, ServerPlan>();
  for (const plan of plans) {
    const other = seen.get(plan.config.name);
    if (other)
      throw new McpConfigError(
        `MCP server \`${plan.config.name}\` is defined twice (${other.source} and ${plan.source}); rename the one in --mcp-config or drop the profile`,
      );
    seen.set(plan.config.name, plan);
  }
  return { configPath: sources.configPath, selectedProfiles, plans, secretValues };
}

function basePlan(
  config: McpServerConfig,
  source: McpSource,
  profiles: string[],
  entryId: string | null,
): ServerPlan {
  return {
    config,
    source,
    profiles,
    catalog_entry_id: entryId,
    credential_secret_refs: [],
    uses_credentials: false,
    env: { ...config.env },
    headers: { ...config.headers },
    skip: config.enabled ? null : 'disabled in config (enabled = false)',
  };
}

export async function planCustom(
  config: McpServerConfig,
  hasStoredOauth: boolean,
  resolveSecret: SecretLookup,
  env: NodeJS.ProcessEnv,
): Promise<ServerPlan> {
  const plan = basePlan(config, 'codex_config', [], null);
  plan.credential_secret_refs = secretRefsOf(config);
  plan.uses_credentials =
    plan.credential_secret_refs.length > 0 ||
    config.bearer_token_env_var !== undefined ||
    Object.keys(config.env_http_headers).length > 0 ||
    hasStoredOauth;
  if (plan.skip) return plan;
  // OAuth material is only ever used inside a session's credential scope, never at boot (#39).
  if (config.oauth_slot_ref || (hasStoredOauth && config.transport === 'streamable_http')) {
    plan.skip = OAUTH_AT_BOOT;
    return plan;
  }
  try {
    for (const [key, slot] of Object.entries(config.env_secret_refs))
      plan.env[key] = await resolveSecret(slot);
    for (const [header, slot] of Object.entries(config.http_header_secret_refs))
      plan.headers[header] = await resolveSecret(slot);
    for (const [header, variable] of Object.entries(config.env_http_headers)) {
      const value = env[variable];
      if (!value) throw new Error(`environment variable ${variable} (header ${header}) is not set`);
      plan.headers[header] = value;
    }
    if (config.bearer_token_secret_ref)
      plan.headers.Authorization = `Bearer ${await resolveSecret(config.bearer_token_secret_ref)}`;
    if (config.bearer_token_env_var) {
      const value = env[config.bearer_token_env_var];
      if (!value)
        throw new Error(`environment variable ${config.bearer_token_env_var} (bearer token) is not set`);
      plan.headers.Authorization = `Bearer ${value}`;
    }
  } catch (err) {
    plan.skip = `credentials unavailable: ${(err as Error).message}`;
  }
  return plan;
}
