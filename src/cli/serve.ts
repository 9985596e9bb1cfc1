// `kheish-daemon serve` (alias `start`): runs the daemon in the foreground until SIGTERM/SIGINT.
import { flushCompileCache } from 'node:module';
import type { Command } from 'commander';
import { RoutesFileError } from '../config/routes-file.ts';
import { schedulerPolicyOptions } from '../config/scheduler-policy.ts';
import { ConfigError, type RawServeFlags, resolveServeConfig } from '../config/serve-options.ts';
import { subagentPolicyOptions } from '../config/subagent-policy.ts';
import { makeLogger, StartupError, startDaemon } from '../daemon.ts';
import { StateRootLockedError } from '../store/sqlite/open.ts';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/**
 * The one line for an address the daemon cannot listen on: the cause and the fix, no stack
 * (the operator's mistake, not ours).
 */
export function listenFailure(err: unknown): string | undefined {
  const e = err as { code?: string; address?: string; port?: number };
  if (e?.code !== 'EADDRINUSE' && e?.code !== 'EACCES' && e?.code !== 'EADDRNOTAVAIL') return undefined;
  const where =
    e.address !== undefined && e.port !== undefined ? `${e.address}:${e.port}` : 'the --bind address';
  const host = e.address ?? '127.0.0.1';
  const fix = `pass --bind ${host.includes(':') ? `[${host}]` : host}:<free port> (or set KHEISH_BIND)`;
  if (e.code === 'EADDRINUSE')
    return `cannot listen on ${where}: the address is already in use (another kheish-daemon, or another program, listens there); stop that process or ${fix}`;
  if (e.code === 'EACCES')
    return `cannot listen on ${where}: permission denied (ports below 1024 need privileges); ${fix}`;
  return `cannot listen on ${where}: this machine has no such address; pass --bind with one of its addresses, e.g. 127.0.0.1:4000`;
}

export function registerServe(program: Command): void {
  const serve = program.command('serve');
  serve
    .alias('start')
    .description(
      'run the daemon in the foreground (SQLite state root; built-in demo route when no routes file)',
    );
  addServeOptions(serve);
  serve.action(async (flags: RawServeFlags) => runServe(flags));
}

/** What a started daemon tells its caller (`up` prints the console line and opens a browser). */
export type OnReady = (daemon: { url: string }) => void;

/** Starts the daemon in the foreground until SIGTERM/SIGINT; a failure exits with §2.2's code. */
export async function runServe(flags: RawServeFlags, onReady?: OnReady): Promise<void> {
  let log: ReturnType<typeof makeLogger> | undefined;
  try {
    const config = resolveServeConfig(flags);
    log = makeLogger(config);
    const daemon = await startDaemon(config, log);
    // The compile cache (src/main.ts) is otherwise written at exit, which a daemon that is
    // killed or crashes never reaches: write what the boot compiled now, once it is ready.
    flushCompileCache();
    let signals = 0;
    const onSignal = (sig: string) => {
      signals++;
      if (signals > 1) process.exit(130);
      daemon.shutdown(sig).then(
        () => process.exit(0),
        (err) => {
          log?.error({ err: String(err) }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => onSignal('SIGTERM'));
    process.on('SIGINT', () => onSignal('SIGINT'));
    onReady?.(daemon);
  } catch (err) {
    const known =
      err instanceof ConfigError ||
      err instanceof RoutesFileError ||
      err instanceof StateRootLockedError ||
      err instanceof StartupError;
    const listen = listenFailure(err);
    const message =
      listen ?? (known ? (err as Error).message : `could not start: ${(err as Error).stack ?? err}`);
    process.stderr.write(`kheish-daemon: ${message}\n`);
    process.exit(err instanceof StartupError ? err.exitCode : 2);
  }
}

/** Every `serve` flag (`up` takes them all too). */
export function addServeOptions(serve: Command): void {
  serve
    .option('--bind <addr>', 'listen address [env KHEISH_BIND]', undefined)
    .option('--state-root <dir>', 'durable state directory [env KHEISH_STATE_ROOT] (default .kheish-daemon)')
    .option('--workspace-root <dir>', 'tool filesystem root [env KHEISH_WORKSPACE_ROOT]')
    .option('--routes-file <file>', 'named routes TOML [env KHEISH_ROUTES_FILE]')
    .option(
      '--mcp-discovery <mode>',
      'auto (import $HOME/.codex MCP config when no --mcp-config) | disabled [env KHEISH_MCP_DISCOVERY]',
    )
    .option('--mcp-config <file>', 'Codex-compatible MCP servers TOML [env KHEISH_MCP_CONFIG]')
    .option('--mcp-credentials <file>', 'Codex-compatible MCP credentials JSON [env KHEISH_MCP_CREDENTIALS]')
    .option(
      '--mcp-profile <profile>',
      'built-in MCP catalog profile, repeatable [env KHEISH_MCP_PROFILES, comma list]',
      collect,
    )
    .option('--connectors-config <file>', 'file-backed connectors TOML [env KHEISH_CONNECTORS_CONFIG]')
    .option('--default-route <id>', 'override the file default_route [env KHEISH_DEFAULT_ROUTE]')
    .option('--log-format <fmt>', 'auto | pretty | json [env KHEISH_LOG_FORMAT]')
    .option('--log-level <lvl>', 'error | warn | info | debug | trace [env KHEISH_LOG_LEVEL]')
    .option(
      '--event-history-capacity <n>',
      'SSE replay window in events, 1..262144 [env KHEISH_EVENT_HISTORY_CAPACITY]',
    )
    .option('--http-auth-mode <mode>', 'auto | bearer | none [env KHEISH_HTTP_AUTH_MODE]')
    .option('--http-admin-token <token>', 'admin bearer token [env KHEISH_DAEMON_ADMIN_TOKEN]')
    .option('--http-admin-token-file <file>', 'file holding the admin token, re-read on change')
    .option('--http-readonly-token <token>', 'read-only bearer token [env KHEISH_DAEMON_READONLY_TOKEN]')
    .option('--http-readonly-token-file <file>', 'file holding the read-only token, re-read on change')
    .option('--http-cors-allow-origin <origin>', 'exact allowed browser origin (repeatable)', collect)
    .option(
      '--skill-root <dir>',
      'explicit skill root, before repository and user roots (repeatable) [env KHEISH_SKILL_ROOTS, comma list]',
      collect,
    )
    .option(
      '--http-listen-backlog <n>',
      'connections queued before accept, 1..65535, capped by net.core.somaxconn [env KHEISH_HTTP_LISTEN_BACKLOG] (default 4096)',
    )
    .option('--database-url <url>', 'PostgreSQL URL [env KHEISH_DATABASE_URL] (SQLite when absent)')
    .option('--database-pool-size <n>', 'PostgreSQL connections [env KHEISH_DATABASE_POOL_SIZE] (default 10)')
    .option(
      '--replica-id <id>',
      'name of this replica on a shared database [env KHEISH_REPLICA_ID] (default: host name + random suffix)',
    )
    .option(
      '--lease-ttl-ms <ms>',
      "run lease lifetime; a dead replica's runs move after it [env KHEISH_LEASE_TTL_MS] (default 15000)",
    )
    .option(
      '--web-search-endpoint <url>',
      'web_search backend returning JSON results [env KHEISH_WEB_SEARCH_ENDPOINT]',
    )
    .option(
      '--allow-empty-routes',
      'boot with no model route (no built-in demo route); add routes live with POST /v1/runtime/routes [env KHEISH_ALLOW_EMPTY_ROUTES]',
    )
    .option(
      '--require-sandbox',
      'refuse to start unless the bash tool can run in a bubblewrap sandbox [env KHEISH_REQUIRE_SANDBOX]',
    )
    .option(
      '--metrics-bind <addr>',
      'also serve GET /metrics, without a token, on this second address (e.g. 10.0.0.5:9464) [env KHEISH_METRICS_BIND]',
    )
    .option(
      '--strict-paths',
      'refuse to start unless --state-root and --workspace-root are both given as absolute paths (the container image sets it) [env KHEISH_STRICT_PATHS]',
    )
    .option('--record-cassette <dir>', 'record every model call as a replayable scripted script in DIR')
    .option(
      '--shell-task-output-max-bytes <n>',
      'retained output per background shell task before rotation [env KHEISH_SHELL_TASK_OUTPUT_MAX_BYTES] (default 8 MiB)',
    )
    .option(
      '--shell-task-max-runtime-ms <ms>',
      'watchdog of background shell tasks [env KHEISH_SHELL_TASK_MAX_RUNTIME_MS] (default 2 h)',
    );
  // Spawn quotas (ops-runtime §2.4), listed after the core flags in --help.
  for (const [flag, help] of subagentPolicyOptions()) serve.option(flag, help);
  for (const [flag, help] of schedulerPolicyOptions()) serve.option(flag, help);
}
