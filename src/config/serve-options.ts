// `serve` flags with their environment fallbacks, validated into one ServeConfig.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { McpDiscovery } from './mcp-config.ts';
import { resolveSchedulerPolicy, type SchedulerRetryPolicy } from './scheduler-policy.ts';
import { checkFileBackedEnv, checkRoots, requireReadableFile } from './startup-refusals.ts';
import { type ResolvedSubagentPolicy, resolveSubagentPolicy } from './subagent-policy.ts';

export type LogFormat = 'auto' | 'pretty' | 'json';
export type LogLevel = 'error' | 'warn' | 'info' | 'debug' | 'trace';
export type AuthMode = 'auto' | 'bearer' | 'none';

export interface ServeConfig {
  host: string;
  port: number;
  /** Connections the kernel queues before accept() (listen backlog; capped by net.core.somaxconn). */
  listenBacklog: number;
  stateRoot: string;
  workspaceRoot: string | null;
  routesFile: string | null;
  defaultRoute: string | null;
  logFormat: LogFormat;
  logLevel: LogLevel;
  eventHistoryCapacity: number;
  authMode: AuthMode;
  adminToken: TokenSource | null;
  readonlyToken: TokenSource | null;
  corsAllowOrigins: string[];
  databaseUrl: string | null;
  /** PostgreSQL connections per replica. */
  databasePoolSize: number;
  /** This daemon's name among the replicas of one database (stable across restarts when set). */
  replicaId: string;
  /** How long a replica's run leases last without renewal before another replica may take them (ms). */
  leaseTtlMs: number;
  maxTurns: number;
  sqliteSync: 'FULL' | 'NORMAL';
  recordCassetteDir: string | null;
  webSearchEndpoint: string | null;
  /** Retained output per background shell task before rotation (bytes). */
  shellTaskOutputMaxBytes: number;
  /** Watchdog of background shell tasks (ms); a call's timeout_ms may only lower it. */
  shellTaskMaxRuntimeMs: number;
  /** Refuse to start (and bash to run) without a working bubblewrap sandbox. */
  requireSandbox: boolean;
  /**
   * Boot with no model route (--allow-empty-routes, what `up` turns on): without a routes file the
   * inventory starts empty instead of holding the built-in demo route; routes are added live.
   */
  allowEmptyRoutes: boolean;
  /** Spawn quotas (--max-child-depth and friends, or --subagent-policy-file). */
  subagentPolicy: ResolvedSubagentPolicy;
  /** Scheduler dispatch retries (--scheduler-retry-*). */
  schedulerPolicy: SchedulerRetryPolicy;
  /** Explicit skill roots (--skill-root, repeatable, or KHEISH_SKILL_ROOTS), highest precedence first. */
  skillRoots: string[];
  /** MCP loading (ops-runtime §8.1): ambient `$HOME/.codex` import, explicit files, catalog profiles. */
  mcp: {
    discovery: McpDiscovery;
    configPath: string | null;
    credentialsPath: string | null;
    profiles: string[];
    /** Upper bound of a built-in catalog entry's connect time (KHEISH_MCP_CATALOG_STARTUP_TIMEOUT_MS). */
    catalogStartupTimeoutMs: number;
  };
  /** Lifetime of a credential broker lease (KHEISH_AUTH_LEASE_TTL_MS, docs/credentials.md). */
  authLeaseTtlMs: number;
  /** File-backed connectors (--connectors-config / KHEISH_CONNECTORS_CONFIG), read at start. */
  connectorsConfig: string | null;
  /** A second listener serving only GET /metrics (--metrics-bind / KHEISH_METRICS_BIND), or null. */
  metricsBind: { host: string; port: number } | null;
  /** Both roots given and absolute (--strict-paths / KHEISH_STRICT_PATHS; the container image sets it). */
  strictPaths: boolean;
}

export type TokenSource = { kind: 'inline'; value: string } | { kind: 'file'; path: string };

export interface RawServeFlags {
  bind?: string;
  stateRoot?: string;
  workspaceRoot?: string;
  routesFile?: string;
  defaultRoute?: string;
  logFormat?: string;
  logLevel?: string;
  eventHistoryCapacity?: string;
  httpAuthMode?: string;
  httpAdminToken?: string;
  httpAdminTokenFile?: string;
  httpReadonlyToken?: string;
  httpReadonlyTokenFile?: string;
  httpCorsAllowOrigin?: string[];
  httpListenBacklog?: string;
  databaseUrl?: string;
  databasePoolSize?: string;
  replicaId?: string;
  leaseTtlMs?: string;
  recordCassette?: string;
  webSearchEndpoint?: string;
  shellTaskOutputMaxBytes?: string;
  shellTaskMaxRuntimeMs?: string;
  requireSandbox?: boolean;
  allowEmptyRoutes?: boolean;
  skillRoot?: string[];
  mcpDiscovery?: string;
  mcpConfig?: string;
  mcpCredentials?: string;
  mcpProfile?: string[];
  connectorsConfig?: string;
  metricsBind?: string;
  strictPaths?: boolean;
}

export class ConfigError extends Error {}

const pick = (flag: string | undefined, env: string | undefined): string | undefined =>
  flag !== undefined && flag !== '' ? flag : env !== undefined && env !== '' ? env : undefined;

export function parseBind(bind: string, flag = '--bind'): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(bind.trim());
  if (!m) throw new ConfigError(`${flag} must look like 127.0.0.1:4000 (got "${bind}")`);
  const port = Number(m[3]);
  if (port > 65535) throw new ConfigError(`${flag} port ${port} is out of range`);
  return { host: m[1] ?? m[2]!, port };
}

/** A boolean environment variable: 1/true/yes or 0/false/no (empty = unset). */
function envFlag(name: string, raw: string | undefined): boolean {
  const v = raw?.trim().toLowerCase();
  if (!v) return false;
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(`${name} must be true or false (got "${raw}")`);
}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value))
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')} (got "${value}")`);
  return value as T;
}

function token(inline: string | undefined, file: string | undefined, name: string): TokenSource | null {
  if (inline && file)
    throw new ConfigError(`give either --http-${name}-token or --http-${name}-token-file, not both`);
  if (inline) return { kind: 'inline', value: inline.trim() };
  if (file) {
    // Re-read on every change later; at start it must be readable (ops-runtime §14).
    requireReadableFile(resolve(file), `--http-${name}-token-file`);
    return { kind: 'file', path: resolve(file) };
  }
  return null;
}

function wholeNumber(
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new ConfigError(
      max === Number.MAX_SAFE_INTEGER
        ? `${name} must be a whole number ≥ ${min} (got "${raw}")`
        : `${name} must be a whole number from ${min} to ${max} (got "${raw}")`,
    );
  return n;
}

/**
 * Node's default listen backlog (511) overflows when a thousand clients connect at once to a busy
 * daemon: the kernel drops their SYNs and they retry after a second or time out. The kernel
 * silently caps the value at net.core.somaxconn (4096 on current Linux).
 */
export const DEFAULT_LISTEN_BACKLOG = 4096;

export function resolveServeConfig(flags: RawServeFlags, env: NodeJS.ProcessEnv = process.env): ServeConfig {
  const config = resolveFlags(flags, env);
  checkRoots({
    stateRootRaw: pick(flags.stateRoot, env.KHEISH_STATE_ROOT),
    workspaceRootRaw: pick(flags.workspaceRoot, env.KHEISH_WORKSPACE_ROOT),
    stateRoot: config.stateRoot,
    workspaceRoot: config.workspaceRoot,
    strictPaths: config.strictPaths,
  });
  checkFileBackedEnv(env);
  const m = config.metricsBind;
  if (m && m.port !== 0 && m.port === config.port && m.host === config.host)
    throw new ConfigError(
      `--metrics-bind ${m.host}:${m.port} is the --bind address; give the metrics listener its own port, or drop --metrics-bind and scrape /metrics on the API address with a token`,
    );
  return config;
}

function resolveFlags(flags: RawServeFlags, env: NodeJS.ProcessEnv): ServeConfig {
  const { host, port } = parseBind(pick(flags.bind, env.KHEISH_BIND) ?? '127.0.0.1:4000');
  const metricsBind = pick(flags.metricsBind, env.KHEISH_METRICS_BIND);
  const capRaw = pick(flags.eventHistoryCapacity, env.KHEISH_EVENT_HISTORY_CAPACITY) ?? '2048';
  const cap = Number(capRaw);
  if (!Number.isInteger(cap))
    throw new ConfigError(`--event-history-capacity must be an integer (got "${capRaw}")`);
  const corsEnv =
    env.KHEISH_HTTP_CORS_ALLOW_ORIGINS?.split(',')
      .map((s) => s.trim())
      .filter(Boolean) ?? [];
  const skillRootsEnv =
    env.KHEISH_SKILL_ROOTS?.split(',')
      .map((s) => s.trim())
      .filter(Boolean) ?? [];
  const maxTurnsRaw = env.KHEISH_AGENT_MAX_TURNS ?? '500';
  const maxTurns = Number(maxTurnsRaw);
  if (!Number.isInteger(maxTurns) || maxTurns < 0)
    throw new ConfigError(`KHEISH_AGENT_MAX_TURNS must be a whole number (got "${maxTurnsRaw}")`);
  const workspace = pick(flags.workspaceRoot, env.KHEISH_WORKSPACE_ROOT);
  const routesFile = pick(flags.routesFile, env.KHEISH_ROUTES_FILE);
  return {
    host,
    port,
    listenBacklog: wholeNumber(
      '--http-listen-backlog',
      pick(flags.httpListenBacklog, env.KHEISH_HTTP_LISTEN_BACKLOG),
      DEFAULT_LISTEN_BACKLOG,
      1,
      65535,
    ),
    stateRoot: resolve(pick(flags.stateRoot, env.KHEISH_STATE_ROOT) ?? '.kheish-daemon'),
    workspaceRoot: workspace ? resolve(workspace) : null,
    routesFile: routesFile ? resolve(routesFile) : null,
    defaultRoute: pick(flags.defaultRoute, env.KHEISH_DEFAULT_ROUTE) ?? null,
    logFormat: oneOf('--log-format', pick(flags.logFormat, env.KHEISH_LOG_FORMAT) ?? 'auto', [
      'auto',
      'pretty',
      'json',
    ] as const),
    logLevel: oneOf('--log-level', pick(flags.logLevel, env.KHEISH_LOG_LEVEL) ?? 'info', [
      'error',
      'warn',
      'info',
      'debug',
      'trace',
    ] as const),
    eventHistoryCapacity: Math.min(262144, Math.max(1, cap)),
    authMode: oneOf('--http-auth-mode', pick(flags.httpAuthMode, env.KHEISH_HTTP_AUTH_MODE) ?? 'auto', [
      'auto',
      'bearer',
      'none',
    ] as const),
    adminToken: token(
      pick(flags.httpAdminToken, env.KHEISH_DAEMON_ADMIN_TOKEN),
      pick(flags.httpAdminTokenFile, env.KHEISH_DAEMON_ADMIN_TOKEN_FILE),
      'admin',
    ),
    readonlyToken: token(
      pick(flags.httpReadonlyToken, env.KHEISH_DAEMON_READONLY_TOKEN),
      pick(flags.httpReadonlyTokenFile, env.KHEISH_DAEMON_READONLY_TOKEN_FILE),
      'readonly',
    ),
    corsAllowOrigins: flags.httpCorsAllowOrigin?.length ? flags.httpCorsAllowOrigin : corsEnv,
    databaseUrl: databaseUrl(pick(flags.databaseUrl, env.KHEISH_DATABASE_URL)),
    databasePoolSize: wholeNumber(
      '--database-pool-size',
      pick(flags.databasePoolSize, env.KHEISH_DATABASE_POOL_SIZE),
      10,
      2,
    ),
    replicaId: replicaId(pick(flags.replicaId, env.KHEISH_REPLICA_ID)),
    leaseTtlMs: wholeNumber('--lease-ttl-ms', pick(flags.leaseTtlMs, env.KHEISH_LEASE_TTL_MS), 15_000, 1000),
    maxTurns,
    sqliteSync: env.KHEISH_SQLITE_SYNCHRONOUS === 'NORMAL' ? 'NORMAL' : 'FULL',
    recordCassetteDir: flags.recordCassette ? resolve(flags.recordCassette) : null,
    webSearchEndpoint: pick(flags.webSearchEndpoint, env.KHEISH_WEB_SEARCH_ENDPOINT) ?? null,
    shellTaskOutputMaxBytes: wholeNumber(
      '--shell-task-output-max-bytes',
      pick(flags.shellTaskOutputMaxBytes, env.KHEISH_SHELL_TASK_OUTPUT_MAX_BYTES),
      8 * 1024 * 1024,
      1024,
    ),
    shellTaskMaxRuntimeMs: wholeNumber(
      '--shell-task-max-runtime-ms',
      pick(flags.shellTaskMaxRuntimeMs, env.KHEISH_SHELL_TASK_MAX_RUNTIME_MS),
      2 * 60 * 60 * 1000,
      1,
    ),
    requireSandbox:
      flags.requireSandbox === true || envFlag('KHEISH_REQUIRE_SANDBOX', env.KHEISH_REQUIRE_SANDBOX),
    allowEmptyRoutes:
      flags.allowEmptyRoutes === true || envFlag('KHEISH_ALLOW_EMPTY_ROUTES', env.KHEISH_ALLOW_EMPTY_ROUTES),
    subagentPolicy: resolveSubagentPolicy(flags as Record<string, unknown>, env),
    schedulerPolicy: resolveSchedulerPolicy(flags as Record<string, unknown>, env),
    skillRoots: (flags.skillRoot?.length ? flags.skillRoot : skillRootsEnv).map((p) => resolve(p)),
    mcp: {
      discovery: oneOf('--mcp-discovery', pick(flags.mcpDiscovery, env.KHEISH_MCP_DISCOVERY) ?? 'auto', [
        'auto',
        'disabled',
      ] as const),
      configPath: optionalPath(pick(flags.mcpConfig, env.KHEISH_MCP_CONFIG)),
      credentialsPath: optionalPath(pick(flags.mcpCredentials, env.KHEISH_MCP_CREDENTIALS)),
      profiles: flags.mcpProfile?.length ? flags.mcpProfile : (env.KHEISH_MCP_PROFILES?.split(',') ?? []),
      catalogStartupTimeoutMs: wholeNumber(
        'KHEISH_MCP_CATALOG_STARTUP_TIMEOUT_MS',
        env.KHEISH_MCP_CATALOG_STARTUP_TIMEOUT_MS || undefined,
        10_000,
        1,
      ),
    },
    authLeaseTtlMs: wholeNumber(
      'KHEISH_AUTH_LEASE_TTL_MS',
      env.KHEISH_AUTH_LEASE_TTL_MS || undefined,
      300_000,
      100,
    ),
    connectorsConfig: optionalPath(pick(flags.connectorsConfig, env.KHEISH_CONNECTORS_CONFIG)),
    metricsBind: metricsBind ? parseBind(metricsBind, '--metrics-bind') : null,
    strictPaths: flags.strictPaths === true || envFlag('KHEISH_STRICT_PATHS', env.KHEISH_STRICT_PATHS),
  };
}

const optionalPath = (raw: string | undefined): string | null => (raw ? resolve(raw) : null);

function databaseUrl(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  let scheme: string;
  try {
    scheme = new URL(raw).protocol;
  } catch {
    throw new ConfigError('--database-url must be a URL like postgres://user@host:5432/database');
  }
  if (scheme !== 'postgres:' && scheme !== 'postgresql:')
    throw new ConfigError(
      `--database-url must be a postgres:// URL (got ${scheme}//…); omit it to use the embedded SQLite store`,
    );
  return raw;
}

/** Letters, digits, `.`, `_`, `-`; a fresh name per process when none is given. */
function replicaId(raw: string | undefined): string {
  if (raw === undefined)
    return `${hostname()
      .replace(/[^A-Za-z0-9._-]/g, '-')
      .slice(0, 40)}-${randomUUID().slice(0, 8)}`;
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(raw))
    throw new ConfigError('--replica-id must be 1-64 letters, digits, ".", "_" or "-"');
  return raw;
}

export const isLoopbackHost = (host: string): boolean =>
  host === 'localhost' || host === '::1' || host.startsWith('127.');
