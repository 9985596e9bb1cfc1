// The built-in MCP catalog and its profiles (ops-runtime §8.3), as data. `--mcp-profile P` starts
// the `supported` entries of P; `catalog_only` entries are shown for planning and need an explicit
// --mcp-config. Credentials of catalog entries come from `mcp.<entry>.<ENV>` secret slots only.
import { DEFAULT_STARTUP_TIMEOUT_MS, McpConfigError, type McpServerConfig } from './mcp-config.ts';

export type CatalogStatus = 'supported' | 'catalog_only';
export type CatalogAuth = 'none' | 'optional_bearer' | 'bearer' | 'oauth' | 'oauth_client_app';
export type CatalogRisk =
  | 'read_only_docs'
  | 'read_mostly_workspace'
  | 'account_read_write'
  | 'browser_automation'
  | 'infrastructure_mutation';

export interface CatalogEntry {
  id: string;
  /** The `[mcp_servers.<name>]` name it runs under (tool names use it). */
  server_name: string;
  display_name: string;
  description: string;
  profiles: string[];
  status: CatalogStatus;
  risk: CatalogRisk;
  auth: CatalogAuth;
  transport: 'streamable_http' | 'stdio';
  /** The URL, or the command line of a stdio entry. */
  endpoint: string;
  credential_env: string[];
  credential_secret_refs: string[];
  enabled_tools: string[];
  docs_url: string;
}

export interface CatalogProfile {
  id: string;
  display_name: string;
  description: string;
  entry_ids: string[];
  supported_entry_ids: string[];
}

const PROFILES: [string, string, string][] = [
  ['docs', 'Documentation', 'Public documentation servers; no account, read only.'],
  ['repo', 'Repository', 'Source hosting: repositories, issues, merge and pull requests.'],
  ['planning', 'Planning', 'Issue trackers and product planning.'],
  ['knowledge', 'Knowledge', 'Wikis and knowledge bases.'],
  ['communication', 'Communication', 'Team chat.'],
  ['browser-ui', 'Browser UI', 'Driving a browser and inspecting pages.'],
  ['observability', 'Observability', 'Errors, events and monitoring.'],
  ['data-dev', 'Data development', 'Development databases.'],
  ['deploy-infra', 'Deployment and infrastructure', 'Cloud platforms and deployments.'],
  ['business', 'Business', 'Payments, billing and design.'],
];

type Row = Omit<CatalogEntry, 'credential_secret_refs' | 'enabled_tools' | 'credential_env'> & {
  credential_env?: string[];
  enabled_tools?: string[];
};

const http = (
  id: string,
  server_name: string,
  display_name: string,
  description: string,
  profiles: string[],
  status: CatalogStatus,
  risk: CatalogRisk,
  auth: CatalogAuth,
  endpoint: string,
  docs_url: string,
  extra: Partial<Row> = {},
): Row => ({
  id,
  server_name,
  display_name,
  description,
  profiles,
  status,
  risk,
  auth,
  transport: 'streamable_http',
  endpoint,
  docs_url,
  ...extra,
});

const CF_DOCS = 'https://developers.cloudflare.com/agents/model-context-protocol/mcp-servers-for-cloudflare/';

const ROWS: Row[] = [
  http(
    'openai-docs',
    'openaiDeveloperDocs',
    'OpenAI Developer Docs',
    'OpenAI platform and Codex documentation.',
    ['docs'],
    'supported',
    'read_only_docs',
    'none',
    'https://developers.openai.com/mcp',
    'https://platform.openai.com/docs/docs-mcp',
  ),
  http(
    'microsoft-learn',
    'microsoftLearn',
    'Microsoft Learn',
    'Microsoft Learn articles and code samples.',
    ['docs'],
    'supported',
    'read_only_docs',
    'none',
    'https://learn.microsoft.com/api/mcp',
    'https://learn.microsoft.com/en-us/training/support/mcp',
  ),
  http(
    'cloudflare-docs',
    'cloudflareDocs',
    'Cloudflare Docs',
    'Cloudflare product documentation.',
    ['docs', 'deploy-infra'],
    'supported',
    'read_only_docs',
    'none',
    'https://docs.mcp.cloudflare.com/mcp',
    CF_DOCS,
  ),
  http(
    'cloudflare-agents-docs',
    'cloudflareAgentsDocs',
    'Cloudflare Agents SDK Docs',
    'Cloudflare Agents SDK documentation.',
    ['docs', 'deploy-infra'],
    'supported',
    'read_only_docs',
    'none',
    'https://agents.cloudflare.com/mcp',
    CF_DOCS,
  ),
  {
    id: 'github',
    server_name: 'github',
    display_name: 'GitHub',
    description: "GitHub's own server: repositories, issues, pull requests, users. Runs in Docker.",
    profiles: ['repo'],
    status: 'catalog_only',
    risk: 'read_mostly_workspace',
    auth: 'bearer',
    transport: 'stdio',
    endpoint:
      'docker run -i --rm -e GITHUB_PERSONAL_ACCESS_TOKEN -e GITHUB_TOOLSETS ghcr.io/github/github-mcp-server',
    credential_env: ['GITHUB_PERSONAL_ACCESS_TOKEN'],
    docs_url: 'https://github.com/github/github-mcp-server',
  },
  http(
    'gitlab',
    'gitlab',
    'GitLab',
    'GitLab projects, issues and merge requests.',
    ['repo'],
    'supported',
    'read_mostly_workspace',
    'optional_bearer',
    'https://gitlab.com/api/v4/mcp',
    'https://docs.gitlab.com/user/gitlab_duo/model_context_protocol/mcp_server/',
    { credential_env: ['GITLAB_TOKEN'] },
  ),
  http(
    'linear',
    'linear',
    'Linear',
    'Linear issues, projects and comments.',
    ['planning'],
    'supported',
    'account_read_write',
    'optional_bearer',
    'https://mcp.linear.app/mcp',
    'https://linear.app/docs/mcp',
    { credential_env: ['LINEAR_API_KEY'] },
  ),
  http(
    'notion',
    'notion',
    'Notion',
    'Notion pages, databases and search.',
    ['knowledge'],
    'catalog_only',
    'account_read_write',
    'oauth',
    'https://mcp.notion.com/mcp',
    'https://developers.notion.com/docs/get-started-with-mcp',
  ),
  http(
    'atlassian',
    'atlassian',
    'Atlassian Rovo',
    'Jira, Confluence and Compass.',
    ['planning', 'knowledge'],
    'catalog_only',
    'account_read_write',
    'oauth',
    'https://mcp.atlassian.com/v1/mcp',
    'https://support.atlassian.com/atlassian-rovo-mcp-server/docs/getting-started-with-the-atlassian-remote-mcp-server/',
  ),
  http(
    'slack',
    'slack',
    'Slack',
    'Slack messages, channels, canvases and users.',
    ['communication'],
    'catalog_only',
    'account_read_write',
    'oauth_client_app',
    'https://mcp.slack.com/mcp',
    'https://docs.slack.dev/ai/slack-mcp-server/',
  ),
  {
    id: 'playwright',
    server_name: 'playwright',
    display_name: 'Playwright',
    description: 'Browser automation and page inspection.',
    profiles: ['browser-ui'],
    status: 'catalog_only',
    risk: 'browser_automation',
    auth: 'none',
    transport: 'stdio',
    endpoint: 'npx -y @playwright/mcp@latest',
    docs_url: 'https://github.com/microsoft/playwright-mcp',
  },
  {
    id: 'sentry',
    server_name: 'sentry',
    display_name: 'Sentry',
    description: 'Sentry issues, events and projects.',
    profiles: ['observability'],
    status: 'catalog_only',
    risk: 'account_read_write',
    auth: 'bearer',
    transport: 'stdio',
    endpoint: 'npx -y @sentry/mcp-server@latest',
    credential_env: ['SENTRY_ACCESS_TOKEN'],
    docs_url: 'https://github.com/getsentry/sentry-mcp',
  },
  http(
    'neon',
    'neon',
    'Neon',
    'Neon Postgres projects, branches and SQL.',
    ['data-dev'],
    'supported',
    'infrastructure_mutation',
    'optional_bearer',
    'https://mcp.neon.tech/mcp',
    'https://neon.com/docs/ai/neon-mcp-server',
    { credential_env: ['NEON_API_KEY'] },
  ),
  http(
    'vercel',
    'vercel',
    'Vercel',
    'Vercel projects, deployments and logs.',
    ['deploy-infra'],
    'catalog_only',
    'infrastructure_mutation',
    'oauth',
    'https://mcp.vercel.com',
    'https://vercel.com/docs/ai-resources/vercel-mcp',
  ),
  http(
    'cloudflare-api',
    'cloudflareApi',
    'Cloudflare API',
    'The Cloudflare API of an account.',
    ['deploy-infra'],
    'supported',
    'infrastructure_mutation',
    'optional_bearer',
    'https://mcp.cloudflare.com/mcp',
    CF_DOCS,
    { credential_env: ['CLOUDFLARE_API_TOKEN'] },
  ),
  http(
    'stripe',
    'stripe',
    'Stripe',
    'Stripe documentation search (the built-in entry exposes only that tool).',
    ['business'],
    'supported',
    'account_read_write',
    'optional_bearer',
    'https://mcp.stripe.com',
    'https://docs.stripe.com/mcp',
    { credential_env: ['STRIPE_SECRET_KEY'], enabled_tools: ['search_stripe_documentation'] },
  ),
  http(
    'figma',
    'figma',
    'Figma',
    'Figma design context.',
    ['business'],
    'catalog_only',
    'read_mostly_workspace',
    'oauth',
    'https://mcp.figma.com/mcp',
    'https://developers.figma.com/docs/figma-mcp-server/',
  ),
];

/** The slot a catalog credential lives in: `mcp.<entry>.<ENV>`. */
export const catalogSecretRef = (entryId: string, env: string) => `mcp.${entryId}.${env}`;

export const CATALOG: CatalogEntry[] = ROWS.map((r) => ({
  ...r,
  credential_env: r.credential_env ?? [],
  credential_secret_refs: (r.credential_env ?? []).map((env) => catalogSecretRef(r.id, env)),
  enabled_tools: r.enabled_tools ?? [],
}));

export const CATALOG_PROFILES: CatalogProfile[] = PROFILES.map(([id, display_name, description]) => {
  const entries = CATALOG.filter((e) => e.profiles.includes(id));
  return {
    id,
    display_name,
    description,
    entry_ids: entries.map((e) => e.id),
    supported_entry_ids: entries.filter((e) => e.status === 'supported').map((e) => e.id),
  };
});

export const catalogEntry = (id: string) => CATALOG.find((e) => e.id === id);
export const catalogProfile = (id: string) => CATALOG_PROFILES.find((p) => p.id === id);

/** Comma lists and repeats folded, lower-cased, de-duplicated; unknown names refused. */
export function normalizeProfiles(raw: string[]): string[] {
  const out = new Set<string>();
  for (const item of raw)
    for (const part of item.split(',')) {
      const p = part.trim().toLowerCase();
      if (!p) continue;
      if (!catalogProfile(p))
        throw new McpConfigError(
          `unknown MCP catalog profile \`${p}\`; the profiles are ${CATALOG_PROFILES.map((x) => x.id).join(', ')}`,
        );
      out.add(p);
    }
  return [...out];
}

export interface ExpandedEntry {
  entry: CatalogEntry;
  /** The selected profiles that include it. */
  profiles: string[];
}

/**
 * The supported entries of the selected profiles (ops-runtime #37): a profile with none fails,
 * rather than starting an empty inventory the operator did not expect.
 */
export function expandProfiles(profiles: string[]): ExpandedEntry[] {
  const byId = new Map<string, ExpandedEntry>();
  for (const id of profiles) {
    const profile = catalogProfile(id)!;
    if (profile.supported_entry_ids.length === 0)
      throw new McpConfigError(
        `MCP catalog profile \`${id}\` has no supported entries (only catalog_only: ${profile.entry_ids.join(', ')}); ` +
          `remove --mcp-profile ${id} and configure those servers with --mcp-config (see \`kheish-daemon mcp catalog list --profile ${id}\`)`,
      );
    for (const entryId of profile.supported_entry_ids) {
      const found = byId.get(entryId);
      if (found) found.profiles.push(id);
      else byId.set(entryId, { entry: catalogEntry(entryId)!, profiles: [id] });
    }
  }
  return [...byId.values()];
}

/** The server config a supported HTTP entry runs with (credentials filled in by the caller). */
export function catalogServerConfig(entry: CatalogEntry): McpServerConfig {
  return {
    name: entry.server_name,
    transport: 'streamable_http',
    url: entry.endpoint,
    args: [],
    env: {},
    env_secret_refs: {},
    inherit_env: false,
    headers: {},
    env_http_headers: {},
    http_header_secret_refs: {},
    oauth_scopes: [],
    enabled: true,
    required: false,
    enabled_tools: entry.enabled_tools.length ? entry.enabled_tools : undefined,
    disabled_tools: [],
    startup_timeout_ms: DEFAULT_STARTUP_TIMEOUT_MS,
    tool_timeout_ms: 120_000,
  };
}
