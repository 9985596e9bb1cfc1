// `doctor routes`: explains each route's state. With --routes-file it lints the file offline (no
// daemon needed), reading the `auth_ref` slots from the daemon's store; without, it asks the
// running daemon (GET /v1/runtime/routes).
import { type Command, Option } from 'commander';
import { loadRoutesFile, RoutesFileError } from '../config/routes-file.ts';
import { RouteInventory } from '../models/route-inventory.ts';
import type { JsonObject } from '../sdk/types.ts';
import { runCanary } from './doctor-canary.ts';
import { UsageError } from './errors.ts';
import { table } from './format.ts';
import { type OfflineStoreFlags, offlineSlots } from './offline-slots.ts';
import type { CliRuntime } from './runtime.ts';
import { DEFAULT_STATE_ROOT } from './state-root-flags.ts';

export interface RouteCheck {
  route_id: string;
  driver: string;
  model: string;
  readiness: string;
  is_default: boolean;
  reason?: string;
  action?: string;
  warnings: string[];
}

/** Static problems of one route that do not stop the daemon but deserve a look. */
function lintWarnings(extra: Record<string, unknown>, env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  if (typeof extra.api_key === 'string')
    out.push('inline api_key in the routes file: prefer auth_ref (encrypted secret store) or api_key_env');
  if (typeof extra.api_key_env === 'string' && !env[extra.api_key_env])
    out.push(`api_key_env ${extra.api_key_env} is not set in this environment`);
  return out;
}

const quote = (text: string) => (/^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`);

/**
 * Offline, the daemon may be stopped: a suggested `secrets set` writes the same store directly.
 * Values that came from the environment are left out (the CLI reads the same variables).
 */
function offlineAction(action: string, store: OfflineStoreFlags & { explicit?: string[] }): string {
  const flags = ['--offline'];
  if (store.explicit?.includes('databaseUrl') && store.databaseUrl)
    flags.push('--database-url', quote(store.databaseUrl));
  else if (store.explicit?.includes('stateRoot') && store.stateRoot)
    flags.push('--state-root', quote(store.stateRoot));
  return action.replace(
    /`(kheish-daemon secrets set [^`]+)`/,
    (_m, cmd: string) => `\`${cmd} ${flags.join(' ')}\``,
  );
}

export async function lintRoutesFile(
  path: string,
  defaultRoute: string | undefined,
  store: OfflineStoreFlags & { explicit?: string[] } = {},
  env = process.env,
): Promise<{ ok: boolean; routes: RouteCheck[]; notes: string[] }> {
  const config = loadRoutesFile(path, defaultRoute);
  const slots = await offlineSlots(config, store);
  const inventory = new RouteInventory(config, { credentials: { env, secretLookup: slots.lookup } });
  const routes = inventory.list().map((r) => ({
    route_id: r.config.route_id,
    driver: r.config.driver,
    model: r.config.default_model,
    readiness: r.readiness,
    is_default: r.config.route_id === config.default_route,
    reason: r.reason ?? undefined,
    action: r.action ? offlineAction(r.action, store) : undefined,
    warnings: lintWarnings(r.config.extra, env),
  }));
  return { ok: routes.every((r) => r.readiness !== 'error' || !r.is_default), routes, notes: slots.notes };
}

export function renderRouteChecks(view: JsonObject): string[] {
  const routes = (view.routes as RouteCheck[]) ?? [];
  const lines = table(
    ['ROUTE', 'DRIVER', 'MODEL', 'STATE', 'DEFAULT'],
    routes.map((r) => [r.route_id, r.driver, r.model, r.readiness, r.is_default ? 'yes' : '']),
  );
  for (const r of routes) {
    if (r.reason) lines.push(`${r.route_id}: ${r.reason}${r.action ? `\n  action: ${r.action}` : ''}`);
    for (const w of r.warnings ?? []) lines.push(`${r.route_id}: warning: ${w}`);
  }
  for (const note of (view.notes as string[] | undefined) ?? []) lines.push(`note: ${note}`);
  for (const d of (view.diagnostics as DiagnosticLine[] | undefined) ?? [])
    if (d.severity !== 'ok')
      lines.push(`${d.code}: ${d.message}${d.action ? `\n  action: ${d.action}` : ''}`);
  const canary = view.canary as JsonObject | undefined;
  if (canary)
    lines.push(
      `canary ${canary.route_id}${canary.model ? `/${canary.model}` : ''}: ${canary.status} in ${canary.duration_ms} ms (session ${canary.session_id}, run ${canary.run_id})${canary.detail ? `: ${canary.detail}` : ''}`,
    );
  return lines;
}

interface DiagnosticLine {
  code: string;
  severity: string;
  message: string;
  action?: string;
}

interface DaemonRouteFlags {
  route?: string;
  checkAuth?: boolean;
  checkReferences?: boolean;
  canary?: boolean;
  canaryTimeoutMs: string;
}

/** On a running daemon: its routes, route_file_drift, and the checks asked for. */
async function daemonRouteView(rt: CliRuntime, opts: DaemonRouteFlags): Promise<JsonObject> {
  const client = rt.client();
  const routes = (await client.request('GET', '/v1/runtime/routes')) as RouteCheck[];
  if (opts.route && !routes.some((r) => r.route_id === opts.route))
    throw new UsageError(
      `the daemon has no route ${opts.route}`,
      `kheish-daemon doctor routes lists them: ${routes.map((r) => r.route_id).join(', ')}`,
    );
  const { checks } = (await client.request('GET', '/v1/runtime/doctor/routes', {
    query: {
      check_auth: opts.checkAuth ? 'true' : undefined,
      check_references: opts.checkReferences ? 'true' : undefined,
      route: opts.route,
    },
  })) as { checks: DiagnosticLine[] };
  const shown = opts.route ? routes.filter((r) => r.route_id === opts.route) : routes;
  let ok = shown.every((r) => r.readiness !== 'error' || !r.is_default);
  ok &&= checks.every((c) => c.severity !== 'error');
  const view: JsonObject = {
    ok,
    routes: shown.map((r) => ({ ...r, warnings: [] })) as unknown as JsonObject[],
    diagnostics: checks as unknown as JsonObject[],
  };
  if (opts.canary) {
    const target = opts.route ? shown[0]! : (routes.find((r) => r.is_default) ?? routes[0]!);
    const timeout = Number(opts.canaryTimeoutMs);
    if (!Number.isInteger(timeout) || timeout < 1)
      throw new UsageError(`--canary-timeout-ms must be a whole number of ms (got ${opts.canaryTimeoutMs})`);
    const canary = await runCanary(client, target.route_id, target.model || null, timeout);
    view.canary = canary as unknown as JsonObject;
    if (canary.status !== 'passed') view.ok = false;
  }
  return view;
}

export function registerDoctorRoutes(doctor: Command, rt: CliRuntime): void {
  doctor
    .command('routes')
    .description('explain each route: driver, model, readiness, and what to do about problems')
    .option('--routes-file <file>', 'lint this routes file offline instead of asking the daemon')
    .option('--default-route <id>', 'with --routes-file: the --default-route the daemon would get')
    .option('--route <id>', 'only this route (with --check-auth and --canary)')
    .option(
      '--check-auth',
      'running daemon: check the secret slots the routes name (missing, wrong provider, expired)',
    )
    .option(
      '--check-references',
      'running daemon: find sessions, schedules and live runs that name a route the daemon no longer has',
    )
    .option(
      '--canary',
      'running daemon: a tiny real run on the route (default: the default route), then report',
    )
    .option('--canary-timeout-ms <ms>', 'how long the canary may take', '90000')
    .addOption(
      new Option(
        '--state-root <dir>',
        `with --routes-file: the daemon state root whose secret store holds the auth_ref slots (default ${DEFAULT_STATE_ROOT})`,
      ).env('KHEISH_STATE_ROOT'),
    )
    .addOption(
      new Option('--database-url <url>', "with --routes-file: the daemon's PostgreSQL store instead").env(
        'KHEISH_DATABASE_URL',
      ),
    )
    .action(
      async (
        opts: { routesFile?: string; defaultRoute?: string } & OfflineStoreFlags & DaemonRouteFlags,
        cmd: Command,
      ) => {
        let view: JsonObject;
        if (opts.routesFile) {
          for (const flag of ['checkReferences', 'canary'] as const)
            if (opts[flag])
              throw new UsageError(
                `--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} needs the running daemon; it does not apply with --routes-file`,
                'drop --routes-file to ask the running daemon (with --base-url and --token-file)',
              );
          try {
            const explicit = (['stateRoot', 'databaseUrl'] as const).filter(
              (f) => cmd.getOptionValueSource(f) === 'cli',
            );
            view = (await lintRoutesFile(opts.routesFile, opts.defaultRoute, {
              ...opts,
              explicit,
            })) as unknown as JsonObject;
          } catch (err) {
            if (err instanceof RoutesFileError)
              throw new UsageError(
                err.message,
                'fix the file and run `kheish-daemon doctor routes --routes-file <file>` again',
              );
            throw err;
          }
        } else {
          for (const flag of ['stateRoot', 'databaseUrl', 'defaultRoute'] as const)
            if (cmd.getOptionValueSource(flag) === 'cli')
              throw new UsageError(
                `--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} only applies with --routes-file`,
                'add --routes-file <file> to lint a file offline, or drop the flag to ask the running daemon',
              );
          view = await daemonRouteView(rt, opts);
        }
        rt.emit(view, renderRouteChecks);
        // Exit 1 = health errors found (ops-runtime §2.2): the default route cannot run.
        if (view.ok === false) rt.exitCode = 1;
      },
    );
}
