// Boots a daemon from a ServeConfig: lock, store, routes, engine, HTTP; and drains on SIGTERM.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { builtinDemoRoutes, emptyRoutes, loadRoutesFile } from './config/routes-file.ts';
import type { ServeConfig } from './config/serve-options.ts';
import { isLoopbackHost } from './config/serve-options.ts';
import { Engine } from './engine/engine.ts';
import { AUDIT_KEY_ACTION, ExternalAudit } from './engine/external-audit.ts';
import { startQuestionExpiry } from './engine/question-expiry.ts';
import { ReplicaRuntime } from './engine/replica.ts';
import { Features } from './features/feature.ts';
import { FEATURES } from './features/index.ts';
import { attachLogRing, LogRing } from './features/logs/ring.ts';
import { AuthGuard, CorsPolicy, identicalTokens } from './http/auth.ts';
import { maskProblemSecrets } from './http/problem.ts';
import { buildServer } from './http/server.ts';
import { RouteInventory } from './models/route-inventory.ts';
import { SlotCache } from './models/slot-cache.ts';
import { isSecretStoreStartupError } from './secrets/errors.ts';
import { SecretStore } from './secrets/secret-store.ts';
import { EventLog } from './store/event-log.ts';
import { DatabaseUnavailableError } from './store/postgres/open.ts';
import { acquireStateRootLock } from './store/sqlite/open.ts';
import { Store } from './store/store.ts';
import { startTracing, stopTracing, tracingOn, tracingStatus } from './telemetry/tracing.ts';
import { registerBuiltinFileTools } from './tools/builtin/index.ts';
import { ToolRegistry } from './tools/registry.ts';
import { LiveToolLimits } from './tools/runtime-limits.ts';
import { sandboxStatus } from './tools/shell/index.ts';
import { registerWebTools } from './tools/web/index.ts';
import { DAEMON_VERSION } from './version.ts';

export class StartupError extends Error {
  /** The CLI exit code (ops-runtime §2.2): 2 for a bad request, 7 for a retryable outage. */
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(message);
    this.exitCode = exitCode;
  }
}

export function makeLogger(config: Pick<ServeConfig, 'logFormat' | 'logLevel'>): Logger {
  const pretty = config.logFormat === 'pretty' || (config.logFormat === 'auto' && process.stderr.isTTY);
  // Every line, as written (after redaction), also lands in the ring GET /v1/logs reads.
  const ring = new LogRing();
  const logger = pino(
    {
      level: config.logLevel,
      redact: {
        paths: ['req.headers.authorization', '*.authorization', '*.api_key', '*.token'],
        censor: '[redacted]',
      },
      hooks: {
        streamWrite: (line) => {
          ring.push(line);
          return line;
        },
      },
      transport: pretty
        ? { target: 'pino-pretty', options: { destination: 2, translateTime: 'SYS:HH:MM:ss' } }
        : undefined,
    },
    pretty ? undefined : pino.destination(2),
  );
  return attachLogRing(logger, ring);
}

/** The embedded SQLite file, or the PostgreSQL database named by --database-url. */
async function openStore(config: ServeConfig): Promise<Store> {
  try {
    return await Store.open({
      stateRoot: config.stateRoot,
      sync: config.sqliteSync,
      databaseUrl: config.databaseUrl,
      poolSize: config.databasePoolSize,
      // A replica frozen inside a write group blocks every replica's writes: no longer than a lease.
      idleInTransactionMs: config.leaseTtlMs,
    });
  } catch (err) {
    if (!(err instanceof DatabaseUnavailableError)) throw err;
    // Refused or timed out: the server may come back (7); anything else is a wrong URL (2).
    const retryable = /ECONNREFUSED|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|timeout/i.test(err.message);
    throw new StartupError(
      `${err.message}. ${retryable ? 'Start the database server or check host and port' : 'Check the user, password and database name'} in --database-url, or omit it to use the embedded SQLite store`,
      retryable ? 7 : 2,
    );
  }
}

/** The offline `secrets set` for a missing slot, on the store this daemon was given. */
function offlineSecretCommand(config: ServeConfig, slot: string, driver: string): string {
  const parts = ['kheish-daemon secrets set', slot, '--provider', driver, '--offline'];
  if (!config.databaseUrl) parts.push('--state-root', shellWord(config.stateRoot));
  else if (config.databaseUrl !== process.env.KHEISH_DATABASE_URL) {
    // The CLI reads KHEISH_DATABASE_URL like serve does; a URL given as a flag is repeated, never its password.
    const url = new URL(config.databaseUrl);
    if (url.password) url.password = '<password>';
    parts.push('--database-url', shellWord(url.toString()));
  }
  return parts.join(' ');
}

const shellWord = (text: string): string =>
  /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;

export interface RunningDaemon {
  url: string;
  engine: Engine;
  shutdown(reason: string): Promise<void>;
}

export async function startDaemon(
  config: ServeConfig,
  log: Logger,
  tools = new ToolRegistry(),
): Promise<RunningDaemon> {
  if (config.authMode === 'bearer' && !config.adminToken) {
    throw new StartupError('--http-auth-mode bearer needs --http-admin-token or --http-admin-token-file');
  }
  if (config.authMode === 'auto' && !isLoopbackHost(config.host) && !config.adminToken) {
    throw new StartupError(
      `binding to ${config.host} exposes the daemon beyond this machine: set --http-admin-token-file (or --http-auth-mode none to accept the risk)`,
    );
  }
  if (identicalTokens(config)) {
    throw new StartupError(
      'the admin and read-only tokens must differ; give the read-only token its own value or file',
    );
  }
  // Probed before anything is opened: a refusal leaves no state behind.
  const sandbox = sandboxStatus();
  if (config.requireSandbox && !sandbox.available)
    throw new StartupError(
      `--require-sandbox: the bash tool has no sandbox (${sandbox.reason}); install bubblewrap (apt-get install bubblewrap), or start without --require-sandbox / KHEISH_REQUIRE_SANDBOX`,
    );
  const routesConfig = config.routesFile
    ? loadRoutesFile(config.routesFile, config.defaultRoute ?? undefined)
    : config.allowEmptyRoutes
      ? emptyRoutes()
      : builtinDemoRoutes();
  if (config.workspaceRoot) mkdirSync(config.workspaceRoot, { recursive: true });
  const lock = acquireStateRootLock(config.stateRoot);
  const store = await openStore(config).catch((err) => {
    lock.release();
    throw err;
  });
  const secretStore = await SecretStore.boot(store).catch((err) => {
    throw isSecretStoreStartupError(err) ? new StartupError(err.message) : err;
  });
  for (const warning of secretStore.warnings) log.warn(warning);
  const slots = new SlotCache(
    secretStore,
    [...routesConfig.routes.values()].flatMap((r) => (r.auth_ref ? [r.auth_ref] : [])),
  );
  const missingSlots = await slots.missing();
  if (missingSlots.length > 0) {
    const commands = missingSlots.map((slot) => {
      const driver = [...routesConfig.routes.values()].find((r) => r.auth_ref === slot)?.driver ?? 'generic';
      return `\`${offlineSecretCommand(config, slot, driver)}\``;
    });
    throw new StartupError(
      `routes name secret slots that do not exist: ${missingSlots.join(', ')}. Create ${missingSlots.length === 1 ? 'it' : 'each'} with ${commands.join(', ')} (it asks for the value; needs the same KHEISH_AUTH_STORE_MASTER_KEY as the daemon), then start again`,
    );
  }
  await slots.reload();
  // OTEL_* variables only; the SDK is loaded only when they ask for traces (docs/tracing.md).
  for (const warning of await startTracing(process.env)) log.warn(warning);
  if (tracingOn()) log.info(tracingStatus(), 'OpenTelemetry traces are exported');
  const events = new EventLog(store, config.eventHistoryCapacity);
  await events.init();
  const routes = new RouteInventory(routesConfig, {
    recordCassetteDir: config.recordCassetteDir,
    credentials: { env: process.env, secretLookup: slots.lookup },
  });
  // One live ToolRuntimeLimits object: the tools read it at each call, the engine per batch.
  const toolLimits = new LiveToolLimits();
  registerBuiltinFileTools(tools, toolLimits.get);
  registerWebTools(tools, {
    fetch: { limits: toolLimits.get },
    search: { endpoint: config.webSearchEndpoint ?? undefined, limits: toolLimits.get },
  });
  // Never throws: a key that cannot be loaded closes the audit (external actions refused, reads served).
  const audit = ExternalAudit.open(config.stateRoot);
  if (audit.keyError) log.error({ action: AUDIT_KEY_ACTION }, audit.problem()!);
  const engine = new Engine({
    audit,
    store,
    events,
    routes,
    tools,
    workspaceRoot: config.workspaceRoot,
    maxTurns: config.maxTurns,
    toolLimits,
    replica: { replicaId: config.replicaId, ttlMs: config.leaseTtlMs },
    log,
  });
  // Step traces mask every credential the daemon holds: secret slots and provider keys (docs/events.md).
  const routeKeys = [...routesConfig.routes.values()].flatMap((r) =>
    r.api_key_env && process.env[r.api_key_env] ? [process.env[r.api_key_env]!] : [],
  );
  engine.secretValues = () => [...slots.secretValues(), ...routeKeys];
  // Features extend engine.secretValues (MCP credentials): read it at each problem, not now.
  maskProblemSecrets(() => engine.secretValues());
  const replica = new ReplicaRuntime(engine);
  const auth = new AuthGuard(config, join(config.stateRoot, 'control-plane-auth', 'audit.jsonl'));
  // Every API domain, built before run recovery (their engine hooks and tools must be in place).
  const features = new Features(FEATURES, {
    config,
    log,
    store,
    events,
    engine,
    tools,
    toolLimits,
    secretStore,
    slots,
    replica,
    lockOwner: lock.owner,
    authEnabled: auth.enabled,
    startedAtMs: Date.now(),
  });
  const app = await buildServer({
    logger: log,
    auth,
    cors: new CorsPolicy(config.corsAllowOrigins),
    version: DAEMON_VERSION,
    mount: (server) => features.mountRoutes(server),
  });

  // A durable marker advances the event id past anything a crashed process streamed live.
  await store.write((tx) =>
    events.append(tx, [{ name: 'trace', data: { trace: { kind: 'daemon_started', pid: process.pid } } }]),
  );
  // Persisted settings apply, and state a dead process left that runs must not see (its shell
  // tasks) is settled, before any run is recovered.
  await features.prepare();
  const recovered = await engine.recover();
  const stopQuestionExpiry = startQuestionExpiry(engine);
  // After run recovery: dispatchers and timers (mailboxes, schedules).
  await features.start();
  if (recovered.sessions > 0) log.info(recovered, 'recovered runs from the previous process');

  const address = await app.listen({ host: config.host, port: config.port, backlog: config.listenBacklog });
  // After listening: the row says where this replica answers; the lease timers start here.
  await replica.start(address);
  if (routes.list().length === 0)
    log.info(
      'onboarding: no model route yet; add one in the console at / or with `kheish-daemon runtime routes add` (runs are refused until then)',
    );
  for (const r of routes.list()) {
    if (r.builtin_demo)
      log.info(
        { route: r.config.route_id },
        'no routes file given: using the built-in demo route `scripted` (echoes your input). Add a real provider with --routes-file routes.toml',
      );
    else if (r.readiness === 'error')
      log.warn({ route: r.config.route_id, reason: r.reason }, 'route not ready');
  }
  if (auth.enabled === false && !isLoopbackHost(config.host))
    log.warn('HTTP auth is disabled on a non-loopback bind');
  // After listening, with the other advice: a start that fails says only why it failed.
  if (!audit.keyError && audit.keyInStateRoot)
    log.warn(
      { key_file: audit.keySource.kind === 'file' ? audit.keySource.path : null },
      'the external-action audit signing key is inside the state root: whoever can write the state root can rewrite the ledger and re-sign it, and a backup of the state root carries the key with the ledger. Keep it elsewhere with KHEISH_EXTERNAL_ACTION_AUDIT_SIGNING_KEY_FILE (docs/security.md)',
    );
  if (!sandbox.available)
    log.warn(
      { reason: sandbox.reason },
      "the bash tool will run commands unsandboxed, with the daemon's access to this machine: install bubblewrap (apt-get install bubblewrap); --require-sandbox refuses to start without it",
    );
  log.info(
    {
      url: address,
      state_root: config.stateRoot,
      default_route: routes.defaultRoute,
      store: store.dialect,
      replica_id: replica.id,
    },
    'kheish-daemon ready',
  );
  store.armFaults();

  let stopping: Promise<void> | null = null;
  const shutdown = (reason: string) => {
    stopping ??= (async () => {
      log.info({ reason }, 'draining: refusing new work, checkpointing in-flight runs');
      stopQuestionExpiry();
      features.stop();
      const stopped = await engine.drain();
      // Features (shell task trees) first: while this replica still heartbeats, no other one takes
      // its tasks for dead and settles them under a wrong reason while their trees are killed here.
      await features.shutdown();
      await replica.stop();
      log.info({ executors_stopped: stopped }, 'in-flight runs checkpointed; they resume on the next start');
      await app.close();
      // Spans still batched go out before the process ends (root spans of runs that ended).
      await stopTracing();
      await events.close();
      await store.close();
      lock.release();
      log.info('stopped');
    })();
    return stopping;
  };
  return { url: address, engine, shutdown };
}
