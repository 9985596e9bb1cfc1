// MCP server configuration (ops-runtime §8.1–§8.2): the Codex-compatible `[mcp_servers.<name>]`
// TOML, where it comes from (explicit flags or `$HOME/.codex` discovery), and every rule that makes
// an entry unusable. Pure parsing and validation: secrets are resolved and servers connected by
// src/features/mcp. Every error names the server and what to change.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { ConfigError } from './serve-options.ts';

export type McpDiscovery = 'auto' | 'disabled';
export type McpTransportKind = 'stdio' | 'streamable_http';

export interface McpServerConfig {
  name: string;
  transport: McpTransportKind;
  command?: string;
  args: string[];
  env: Record<string, string>;
  env_secret_refs: Record<string, string>;
  /** The child sees the daemon's environment (custom stdio without secret refs, by default). */
  inherit_env: boolean;
  cwd?: string;
  url?: string;
  headers: Record<string, string>;
  /** Header name → environment variable holding its value. */
  env_http_headers: Record<string, string>;
  http_header_secret_refs: Record<string, string>;
  bearer_token_env_var?: string;
  bearer_token_secret_ref?: string;
  oauth_slot_ref?: string;
  oauth_resource?: string;
  oauth_scopes: string[];
  enabled: boolean;
  required: boolean;
  /** Only these tools (raw server names); undefined = all. */
  enabled_tools?: string[];
  disabled_tools: string[];
  startup_timeout_ms: number;
  tool_timeout_ms: number;
}

/** A start-up error (the daemon prints it and exits 2). */
export class McpConfigError extends ConfigError {}

export const DEFAULT_STARTUP_TIMEOUT_MS = 10_000;
export const DEFAULT_TOOL_TIMEOUT_MS = 60_000;

const STDIO_KEYS = ['command', 'args', 'env', 'env_secret_refs', 'inherit_env', 'cwd'] as const;
const HTTP_KEYS = [
  'url',
  'headers',
  'env_http_headers',
  'http_header_secret_refs',
  'bearer_token_env_var',
  'bearer_token_secret_ref',
  'oauth_slot_ref',
  'oauth_resource',
  'oauth_scopes',
] as const;
const COMMON_KEYS = [
  'enabled',
  'required',
  'enabled_tools',
  'disabled_tools',
  'startup_timeout_sec',
  'startup_timeout_ms',
  'tool_timeout_sec',
] as const;
const KNOWN = new Set<string>([...STDIO_KEYS, ...HTTP_KEYS, ...COMMON_KEYS]);

/** Server names become part of tool names (`mcp__<server>__<tool>`): keep them plain. */
const SERVER_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Parses the `mcp_servers` table of a Codex-compatible TOML file; other top-level keys are Codex's own. */
export function parseMcpConfigText(text: string, origin: string): McpServerConfig[] {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (err) {
    throw new McpConfigError(
      `MCP config ${origin} is not valid TOML: ${(err as Error).message.split('\n')[0]}`,
    );
  }
  const table = doc.mcp_servers;
  if (table === undefined) return [];
  if (!isTable(table)) throw new McpConfigError(`MCP config ${origin}: \`mcp_servers\` must be a table`);
  return Object.entries(table).map(([name, raw]) => parseServer(name, raw, origin));
}

export function loadMcpConfigFile(path: string): McpServerConfig[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new McpConfigError(
      `cannot read MCP config ${path} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'}); check --mcp-config / KHEISH_MCP_CONFIG`,
    );
  }
  return parseMcpConfigText(text, path);
}

/** One `[mcp_servers.<name>]` entry (also a server added through the runtime API). */
export function parseServer(name: string, raw: unknown, origin: string): McpServerConfig {
  const where = `MCP server \`${name}\` in ${origin}`;
  const fail = (problem: string): never => {
    throw new McpConfigError(`${where}: ${problem}`);
  };
  if (!SERVER_NAME.test(name)) fail('the server name may only hold letters, digits, `_` and `-` (1-64)');
  if (!isTable(raw)) fail('must be a table');
  const t = raw as Record<string, unknown>;
  const unknown = Object.keys(t).filter((k) => !KNOWN.has(k));
  if (unknown.length) fail(`unknown key(s) ${unknown.map((k) => `\`${k}\``).join(', ')}; remove them`);
  const str = (key: string): string | undefined => {
    const v = t[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v === '') fail(`\`${key}\` must be a non-empty string`);
    return v as string;
  };
  const list = (key: string): string[] | undefined => {
    const v = t[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
      fail(`\`${key}\` must be a list of strings`);
    return v as string[];
  };
  const map = (key: string): Record<string, string> => {
    const v = t[key];
    if (v === undefined) return {};
    if (!isTable(v) || Object.values(v).some((x) => typeof x !== 'string'))
      fail(`\`${key}\` must be a table of strings, e.g. { KEY = "value" }`);
    return { ...(v as Record<string, string>) };
  };
  const bool = (key: string): boolean | undefined => {
    const v = t[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') fail(`\`${key}\` must be true or false`);
    return v as boolean;
  };
  const seconds = (key: string): number | undefined => {
    const v = t[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !(v > 0) || v > 86_400)
      fail(`\`${key}\` must be a number of seconds above 0`);
    return Math.round((v as number) * 1000);
  };
  const hasCommand = t.command !== undefined;
  const hasUrl = t.url !== undefined;
  if (hasCommand === hasUrl)
    fail(
      hasCommand
        ? 'has both `command` and `url`; an entry uses exactly one transport: keep `command` (stdio) or `url` (Streamable HTTP)'
        : 'needs `command` (stdio) or `url` (Streamable HTTP)',
    );
  const foreign = (hasCommand ? HTTP_KEYS : STDIO_KEYS).filter((k) => t[k] !== undefined);
  if (foreign.length)
    fail(
      `is a ${hasCommand ? 'stdio' : 'Streamable HTTP'} server but sets ${foreign.map((k) => `\`${k}\``).join(', ')}, which only apply to ${hasCommand ? 'HTTP' : 'stdio'} servers; remove them`,
    );
  const startupMs = seconds('startup_timeout_sec') ?? (t.startup_timeout_ms as number | undefined);
  if (startupMs !== undefined && (typeof startupMs !== 'number' || !(startupMs > 0)))
    fail('`startup_timeout_ms` must be a number of milliseconds above 0');
  const envSecretRefs = map('env_secret_refs');
  const inheritEnv = bool('inherit_env');
  const config: McpServerConfig = {
    name,
    transport: hasCommand ? 'stdio' : 'streamable_http',
    command: str('command'),
    args: list('args') ?? [],
    env: map('env'),
    env_secret_refs: envSecretRefs,
    // Codex compatibility: custom stdio inherits the daemon env unless secrets are injected.
    inherit_env: inheritEnv ?? Object.keys(envSecretRefs).length === 0,
    cwd: str('cwd'),
    url: str('url'),
    headers: map('headers'),
    env_http_headers: map('env_http_headers'),
    http_header_secret_refs: map('http_header_secret_refs'),
    bearer_token_env_var: str('bearer_token_env_var'),
    bearer_token_secret_ref: str('bearer_token_secret_ref'),
    oauth_slot_ref: str('oauth_slot_ref'),
    oauth_resource: str('oauth_resource'),
    oauth_scopes: list('oauth_scopes') ?? [],
    enabled: bool('enabled') ?? true,
    required: bool('required') ?? false,
    enabled_tools: list('enabled_tools'),
    disabled_tools: list('disabled_tools') ?? [],
    startup_timeout_ms: startupMs ?? DEFAULT_STARTUP_TIMEOUT_MS,
    tool_timeout_ms: seconds('tool_timeout_sec') ?? DEFAULT_TOOL_TIMEOUT_MS,
  };
  if (inheritEnv === true && Object.keys(envSecretRefs).length > 0)
    fail(
      '`env_secret_refs` runs the server with a restricted environment, so `inherit_env = true` is not allowed; set `inherit_env = false` and put every variable it needs in `env` or `env_secret_refs`',
    );
  validateServer(config, fail);
  return config;
}

/** The §8.2 rules that span several keys (shared by parsed files and catalog entries). */
export function validateServer(c: McpServerConfig, fail: (problem: string) => never): void {
  for (const key of Object.keys(c.env))
    if (key in c.env_secret_refs)
      fail(`\`${key}\` is set both in \`env\` and in \`env_secret_refs\`; keep one of them`);
  if (c.url !== undefined) {
    let url: URL | null = null;
    try {
      url = new URL(c.url);
    } catch {
      fail('`url` is not a valid URL');
    }
    url = url as URL;
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      fail('`url` must be an http:// or https:// URL');
    if (url.username || url.password)
      fail('`url` must not carry a user name or password; use a header or a secret ref');
  }
  const sources: [string, Record<string, string>][] = [
    ['headers', c.headers],
    ['env_http_headers', c.env_http_headers],
    ['http_header_secret_refs', c.http_header_secret_refs],
  ];
  const seen = new Map<string, string>();
  for (const [source, headers] of sources)
    for (const header of Object.keys(headers)) {
      const lower = header.toLowerCase();
      const other = seen.get(lower);
      if (other) fail(`header \`${header}\` comes from both \`${other}\` and \`${source}\`; give it once`);
      seen.set(lower, source);
    }
  const bearer = c.bearer_token_env_var ?? c.bearer_token_secret_ref;
  if (c.bearer_token_env_var && c.bearer_token_secret_ref)
    fail('give `bearer_token_env_var` or `bearer_token_secret_ref`, not both');
  if (seen.has('authorization') && (bearer || c.oauth_slot_ref))
    fail(
      `an \`Authorization\` header (in \`${seen.get('authorization')}\`) conflicts with ${bearer ? '`bearer_token_*`' : '`oauth_slot_ref`'}; remove the header or the token setting`,
    );
  if (bearer && c.oauth_slot_ref)
    fail('a bearer token and `oauth_slot_ref` cannot both authenticate one server; keep one of them');
  if (c.oauth_slot_ref !== undefined && !c.oauth_slot_ref.startsWith('mcp.oauth.'))
    fail(`\`oauth_slot_ref\` must start with \`mcp.oauth.\` (got \`${c.oauth_slot_ref}\`)`);
  if ((c.oauth_resource !== undefined || c.oauth_scopes.length > 0) && !c.oauth_slot_ref)
    fail('`oauth_resource` and `oauth_scopes` need `oauth_slot_ref`');
}

/** Every secret slot an entry reads (for runtime `credential_secret_refs`). */
export function secretRefsOf(c: McpServerConfig): string[] {
  const refs = [
    ...Object.values(c.env_secret_refs),
    ...Object.values(c.http_header_secret_refs),
    ...(c.bearer_token_secret_ref ? [c.bearer_token_secret_ref] : []),
    ...(c.oauth_slot_ref ? [c.oauth_slot_ref] : []),
  ];
  return [...new Set(refs)].sort();
}

/** Where the inventory comes from, after --mcp-discovery (ops-runtime §8.1). */
export interface McpSources {
  configPath: string | null;
  credentialsPath: string | null;
}

export function resolveMcpSources(
  opts: { discovery: McpDiscovery; configPath: string | null; credentialsPath: string | null },
  home: string | undefined,
): McpSources {
  const explicit = opts.configPath !== null;
  const ambient = (file: string) => {
    if (opts.discovery !== 'auto' || explicit || !home) return null;
    const path = join(home, '.codex', file);
    return existsSync(path) ? path : null;
  };
  return {
    configPath: opts.configPath ? resolve(opts.configPath) : ambient('config.toml'),
    credentialsPath: opts.credentialsPath ? resolve(opts.credentialsPath) : ambient('.credentials.json'),
  };
}

/**
 * The server names a Codex-compatible credentials file holds credentials for. Codex keeps MCP
 * OAuth tokens there; the daemon never sends them at boot (they are OAuth material, see
 * docs/decisions.md), so only the names matter here.
 */
export function credentialServerNames(path: string): Set<string> {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new McpConfigError(
      `MCP credentials file ${path} is not readable JSON (${(err as Error).message.split('\n')[0]}); check --mcp-credentials / KHEISH_MCP_CREDENTIALS`,
    );
  }
  if (!isTable(doc)) throw new McpConfigError(`MCP credentials file ${path} must hold a JSON object`);
  const names = new Set<string>();
  for (const [key, entry] of Object.entries(doc)) {
    const named = isTable(entry) && typeof entry.server_name === 'string' ? entry.server_name : key;
    names.add(named);
  }
  return names;
}

function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
