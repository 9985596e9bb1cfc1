// Boots a daemon from a ServeConfig: lock, store, routes, engine, HTTP; and drains on SIGTERM.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { builtinDemoRoutes, loadRoutesFile } from './config/routes-file.ts';
import type { ServeConfig } from './config/serve-options.ts';
import { isLoopbackHost } from './config/serve-options.ts';
import { Engine } from './engine/engine.ts';
import { ActionSigner } from './engine/external-actions.ts';
import { startQuestionExpiry } from './engine/question-expiry.ts';
import { ApprovalsService } from './features/approvals/service.ts';
import { QuestionsService } from './features/questions/service.ts';
import { RunsService } from './features/runs/service.ts';
import { RuntimeService } from './features/runtime/service.ts';
import { SecretsService } from './features/secrets/service.ts';
import { SessionsService } from './features/sessions/service.ts';
import { AuthGuard, CorsPolicy } from './http/auth.ts';
import { buildServer } from './http/server.ts';
import { RouteInventory } from './models/route-inventory.ts';
import { SlotCache } from './models/slot-cache.ts';
import { isSecretStoreStartupError } from './secrets/errors.ts';
import { SecretStore } from './secrets/secret-store.ts';
import { EventLog } from './store/event-log.ts';
import { acquireStateRootLock } from './store/sqlite/open.ts';
import { Store } from './store/store.ts';
import { registerBuiltinFileTools } from './tools/builtin/index.ts';
import { ToolRegistry } from './tools/registry.ts';
import { registerShellTool } from './tools/shell/index.ts';
import { registerWebTools } from './tools/web/index.ts';

export class StartupError extends Error {}

export function makeLogger(config: Pick<ServeConfig, 'logFormat' | 'logLevel'>): Logger {
  const pretty = config.logFormat === 'pretty' || (config.logFormat === 'auto' && process.stderr.isTTY);
  return pino(
    {
      level: config.logLevel,
      redact: {
        paths: ['req.headers.authorization', '*.authorization', '*.api_key', '*.token'],
        censor: '[redacted]',
      },
      transport: pretty
        ? { target: 'pino-pretty', options: { destination: 2, translateTime: 'SYS:HH:MM:ss' } }
        : undefined,
    },
    pretty ? undefined : pino.destination(2),
  );
}

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
  if (config.databaseUrl) {
    throw new StartupError(
      '--database-url (PostgreSQL) is not supported by this build yet; omit it to use the embedded SQLite store',
    );
  }
  if (config.authMode === 'bearer' && !config.adminToken) {
    throw new StartupError('--http-auth-mode bearer needs --http-admin-token or --http-admin-token-file');
  }
  if (config.authMode === 'auto' && !isLoopbackHost(config.host) && !config.adminToken) {
    throw new StartupError(
      `binding to ${config.host} exposes the daemon beyond this machine: set --http-admin-token-file (or --http-auth-mode none to accept the risk)`,
    );
  }
  const a = config.adminToken;
  const r = config.readonlyToken;
  if (
    a &&
    r &&
    a.kind === r.kind &&
    (a.kind === 'inline' ? a.value === (r as typeof a).value : a.path === (r as { path: string }).path)
  ) {
    throw new StartupError(
      'the admin and read-only tokens must differ; give the read-only token its own value or file',
    );
  }
  const routesConfig = config.routesFile
    ? loadRoutesFile(config.routesFile, config.defaultRoute ?? undefined)
    : builtinDemoRoutes();
  if (config.workspaceRoot) mkdirSync(config.workspaceRoot, { recursive: true });
  const lock = acquireStateRootLock(config.stateRoot);
  const store = await Store.open({ stateRoot: config.stateRoot, sync: config.sqliteSync });
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
    throw new StartupError(
      `routes name secret slots that do not exist: ${missingSlots.join(', ')}. Create each with \`kheish-daemon secrets set <slot> --provider <driver> --value-file <file> --offline --state-root ${config.stateRoot}\` (needs KHEISH_AUTH_STORE_MASTER_KEY), then start again`,
    );
  }
  await slots.reload();
  const events = new EventLog(store, config.eventHistoryCapacity);
  await events.init();
  const routes = new RouteInventory(routesConfig, {
    recordCassetteDir: config.recordCassetteDir,
    credentials: { env: process.env, secretLookup: slots.lookup },
  });
  registerBuiltinFileTools(tools);
  registerShellTool(tools, { hiddenPaths: [config.stateRoot] });
  registerWebTools(tools, { search: { endpoint: config.webSearchEndpoint ?? undefined } });
  const signer = ActionSigner.load(config.stateRoot);
  const engine = new Engine({
    signer,
    store,
    events,
    routes,
    tools,
    workspaceRoot: config.workspaceRoot,
    maxTurns: config.maxTurns,
    log,
  });
  const auth = new AuthGuard(config, join(config.stateRoot, 'control-plane-auth', 'audit.jsonl'));
  const runtime = new RuntimeService(engine, {
    stateRoot: config.stateRoot,
    workspaceRoot: config.workspaceRoot,
    lockOwner: lock.owner,
    startedAtMs: Date.now(),
    authEnabled: auth.enabled,
  });
  await runtime.settings.load();
  const secrets = new SecretsService(secretStore);
  secrets.onChange(() => slots.reload());
  const app = await buildServer(
    {
      engine,
      sessions: new SessionsService(engine),
      runs: new RunsService(engine),
      runtime,
      secrets,
      approvals: new ApprovalsService(engine),
      questions: new QuestionsService(engine),
    },
    { logger: log, auth, cors: new CorsPolicy(config.corsAllowOrigins) },
  );

  // A durable marker advances the event id past anything a crashed process streamed live.
  await store.write((tx) =>
    events.append(tx, [{ name: 'trace', data: { trace: { kind: 'daemon_started', pid: process.pid } } }]),
  );
  const recovered = await engine.recover();
  const stopQuestionExpiry = startQuestionExpiry(engine);
  if (recovered.sessions > 0) log.info(recovered, 'recovered runs from the previous process');

  const address = await app.listen({ host: config.host, port: config.port });
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
  log.info(
    { url: address, state_root: config.stateRoot, default_route: routes.defaultRoute },
    'kheish-daemon ready',
  );

  let stopping: Promise<void> | null = null;
  const shutdown = (reason: string) => {
    stopping ??= (async () => {
      log.info({ reason }, 'draining: refusing new work, checkpointing in-flight runs');
      stopQuestionExpiry();
      const stopped = await engine.drain();
      log.info({ executors_stopped: stopped }, 'in-flight runs checkpointed; they resume on the next start');
      await app.close();
      await store.close();
      lock.release();
      log.info('stopped');
    })();
    return stopping;
  };
  return { url: address, engine, shutdown };
}
