// `doctor` (ops-runtime §2.6): every check of a running daemon in one report, each with a
// severity and, when something is wrong, what to do. Exit 0 when no check is at error level, 1 when
// one is, 3 when the daemon cannot be reached at all. `doctor routes` is in doctor-routes.ts.
import type { Command } from 'commander';
import { type DoctorCheck, fail, pass, type Severity } from '../config/doctor-check.ts';
import type { DaemonClient } from '../sdk/client.ts';
import { RuntimeResource } from '../sdk/resources-admin.ts';
import type { JsonObject } from '../sdk/types.ts';
import { registerDoctorRoutes } from './doctor-routes.ts';
import { EXIT, errorLines, exitCodeFor } from './errors.ts';
import { arr, num, obj, plural, scalar, str, table } from './format.ts';
import type { CliRuntime } from './runtime.ts';

export type { DoctorCheck, Severity };

export interface DoctorView {
  ok: boolean;
  status: string | null;
  status_error: string | null;
  session_count: number | null;
  pending_approvals: number | null;
  pending_questions: number | null;
  readyz_reachable: boolean;
  events_stream_reachable: boolean;
  checks: DoctorCheck[];
  warnings: string[];
  errors: string[];
}

const isLoopback = (host: string) =>
  host === 'localhost' || host === '[::1]' || host === '::1' || /^127\./.test(host);

async function probeReadyz(client: DaemonClient): Promise<DoctorCheck> {
  try {
    const res = await client.fetch(client.url('/readyz'), { signal: AbortSignal.timeout(client.timeoutMs) });
    const body = (await res.text()).trim();
    return res.ok
      ? pass('readyz', `/readyz answers ${res.status} ${body}`)
      : fail(
          'readyz',
          'readyz_not_ready',
          'error',
          `/readyz answers ${res.status} ${body}`,
          'see the status check and the daemon log',
        );
  } catch (err) {
    return fail('readyz', 'readyz_unreachable', 'error', `/readyz: ${(err as Error).message}`);
  }
}

/** Opens the daemon-wide stream: a 200 `text/event-stream` answer means clients can follow events. */
async function probeEventStream(client: DaemonClient): Promise<DoctorCheck> {
  const stop = new AbortController();
  try {
    const res = await client.send('GET', '/v1/events/stream', {
      headers: { accept: 'text/event-stream' },
      signal: stop.signal,
    });
    const type = res.headers.get('content-type') ?? '';
    return type.includes('text/event-stream')
      ? pass('events_stream', '/v1/events/stream is open to clients')
      : fail(
          'events_stream',
          'events_stream_malformed',
          'error',
          `/v1/events/stream answers ${type || 'no content type'}`,
          'a proxy in front of the daemon may be rewriting the stream; let text/event-stream through unbuffered',
        );
  } catch (err) {
    return fail(
      'events_stream',
      'events_stream_unreachable',
      'error',
      `/v1/events/stream: ${errorLines(err)[0]!.replace(/^error: /, '')}`,
    );
  } finally {
    stop.abort();
  }
}

/** A browser preflight for a `POST` with `Authorization` and `Content-Type` from `origin`. */
async function probeCors(client: DaemonClient, origin: string): Promise<DoctorCheck> {
  try {
    const res = await client.fetch(client.url('/v1/status'), {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
      signal: AbortSignal.timeout(client.timeoutMs),
    });
    const allowed = res.headers.get('access-control-allow-origin');
    if (allowed === '*')
      return fail(
        'cors',
        'cors_wildcard',
        'error',
        `the daemon answers any origin (${allowed})`,
        'list exact origins with --http-cors-allow-origin',
      );
    if (res.ok && allowed === origin) return pass('cors', `a browser at ${origin} may call the daemon`);
    return fail(
      'cors',
      'cors_origin_rejected',
      'warning',
      `a browser at ${origin} is refused (preflight ${res.status})`,
      `start the daemon with --http-cors-allow-origin ${origin} if that page should reach it`,
    );
  } catch (err) {
    return fail(
      'cors',
      'cors_preflight_failed',
      'error',
      `preflight from ${origin}: ${(err as Error).message}`,
    );
  }
}

/** The checks that read /v1/status: storage, lock, routes, auth posture, and the daemon's own warnings. */
function statusChecks(status: JsonObject, baseUrl: string): DoctorCheck[] {
  const checks: DoctorCheck[] = [];
  checks.push(
    status.ready === true
      ? pass('status', `daemon ${scalar(status.status)} (version ${scalar(status.version)})`)
      : fail(
          'status',
          'daemon_not_ready',
          'error',
          `daemon is ${scalar(status.status)}`,
          'see the daemon log',
        ),
  );
  const storage = obj(status.storage);
  if (storage) {
    const failed = arr(storage.probes)
      .map((p) => obj(p) ?? {})
      .filter((p) => p.ok === false);
    checks.push(
      storage.ok === false || failed.length > 0
        ? fail(
            'storage',
            'storage_unhealthy',
            'error',
            `storage (${scalar(storage.dialect)}) fails: ${failed.map((p) => `${scalar(p.name)}: ${scalar(p.error)}`).join('; ') || scalar(storage.last_error)}`,
            'check the disk (or the database server) behind the state root',
          )
        : pass('storage', `${scalar(storage.dialect)} store at ${scalar(storage.location)}`),
    );
    const lock = obj(storage.state_root_lock);
    if (lock)
      checks.push(
        lock.held === true
          ? pass(
              'state_root_lock',
              `state root ${scalar(storage.state_root)} locked by ${scalar(lock.owner)}`,
            )
          : fail(
              'state_root_lock',
              'state_root_lock_missing',
              'error',
              `the daemon does not hold the lock of ${scalar(storage.state_root)}`,
              'another process may write the same state root: stop it and restart the daemon',
            ),
      );
  }
  const routes = arr(obj(status.provider_readiness)?.routes).map((r) => obj(r) ?? {});
  const defaultRoute = str(obj(status.runtime)?.default_route);
  for (const r of routes) {
    const id = scalar(r.route_id);
    if (r.readiness === 'error')
      checks.push(
        fail(
          'route',
          'route_not_ready',
          id === defaultRoute ? 'error' : 'warning',
          `route ${id} is not ready: ${scalar(r.reason ?? r.message ?? 'unknown reason')}`,
          str(r.action),
          id,
        ),
      );
    else
      checks.push(
        pass('route', `route ${id}: ${scalar(r.readiness)}${id === defaultRoute ? ' (default)' : ''}`),
      );
  }
  const host = new URL(baseUrl).hostname;
  if (obj(status.control_plane)?.auth_enabled === false && !isLoopback(host))
    checks.push(
      fail(
        'auth',
        'auth_disabled_remote',
        'error',
        `the daemon at ${host} accepts requests without a token`,
        'restart it with --http-admin-token-file (and --http-readonly-token-file for readers)',
      ),
    );
  for (const w of arr(obj(status.health)?.warnings).map((x) => obj(x) ?? {})) {
    const severity = w.severity === 'error' ? 'error' : w.severity === 'info' ? 'info' : 'warning';
    checks.push(
      fail('health', scalar(w.code), severity, scalar(w.message, 300), str(w.action), str(w.related_id)),
    );
  }
  return checks;
}

/**
 * The daemon's own checks (GET /v1/runtime/doctor): disk, store integrity, master key, workspace,
 * sandbox, hook hosts, MCP, connectors, routes-file drift. A daemon without that route (older)
 * or a read-only token gets one info line instead.
 */
async function daemonChecks(client: DaemonClient, integrity: boolean): Promise<DoctorCheck[]> {
  try {
    const res = (await new RuntimeResource(client).doctor({ integrity })) as unknown as {
      checks: DoctorCheck[];
    };
    return res.checks;
  } catch (err) {
    const code = exitCodeFor(err);
    if (code === EXIT.auth)
      return [
        fail(
          'daemon_checks',
          'daemon_checks_need_admin',
          'info',
          'the daemon-side checks (disk, store integrity, master key, hooks, MCP, connectors) need the admin token',
          'run doctor again with --token-file <admin token file>',
        ),
      ];
    if (code === EXIT.notFound)
      return [
        fail('daemon_checks', 'daemon_checks_unsupported', 'info', 'this daemon has no /v1/runtime/doctor'),
      ];
    return [
      fail(
        'daemon_checks',
        'daemon_checks_failed',
        'warning',
        `/v1/runtime/doctor: ${errorLines(err)[0]!.replace(/^error: /, '')}`,
      ),
    ];
  }
}

export async function runDoctor(
  client: DaemonClient,
  corsOrigin?: string,
  opts: { integrity?: boolean } = {},
): Promise<DoctorView> {
  let status: JsonObject | null = null;
  let statusError: string | null = null;
  try {
    status = (await client.request('GET', '/v1/status')) as JsonObject;
  } catch (err) {
    statusError = errorLines(err)
      .join('; ')
      .replace(/^error: /, '');
    if (exitCodeFor(err) === EXIT.unreachable) throw err;
  }
  const [readyz, stream, cors, daemon] = await Promise.all([
    probeReadyz(client),
    probeEventStream(client),
    corsOrigin ? probeCors(client, corsOrigin) : Promise.resolve(null),
    status ? daemonChecks(client, opts.integrity !== false) : Promise.resolve([]),
  ]);
  const checks = status
    ? statusChecks(status, client.baseUrl)
    : [fail('status', 'status_unavailable', 'error', `/v1/status: ${statusError}`)];
  checks.push(readyz, stream, ...(cors ? [cors] : []), ...daemon);
  const runs = obj(status?.runs);
  return {
    ok: checks.every((c) => c.severity !== 'error'),
    status: str(status?.status) ?? null,
    status_error: statusError,
    session_count: num(obj(status?.sessions)?.total) ?? null,
    pending_approvals: num(runs?.pending_approval_count) ?? null,
    pending_questions: num(runs?.pending_question_count) ?? null,
    readyz_reachable: readyz.code !== 'readyz_unreachable',
    events_stream_reachable: stream.ok,
    checks,
    warnings: checks.filter((c) => c.severity === 'warning').map((c) => c.message),
    errors: checks.filter((c) => c.severity === 'error').map((c) => c.message),
  };
}

export function renderDoctor(v: DoctorView): string[] {
  const lines = table(
    ['CHECK', 'RESULT', 'DETAIL'],
    v.checks.map((c) => [c.name, c.severity, c.message]),
  );
  for (const c of v.checks)
    if (c.action && c.severity !== 'ok') lines.push(`${c.name}: ${c.code}: ${c.action}`);
  const counts = [
    v.errors.length ? plural(v.errors.length, 'error') : '',
    v.warnings.length ? plural(v.warnings.length, 'warning') : '',
  ].filter(Boolean);
  lines.push(
    '',
    `doctor: ${v.ok ? 'ok' : 'problems found'}${counts.length ? ` (${counts.join(', ')})` : ''}; ${plural(v.session_count ?? 0, 'session')}, ${plural(v.pending_approvals ?? 0, 'pending approval')}, ${plural(v.pending_questions ?? 0, 'pending question')}`,
  );
  return lines;
}

export function registerDoctor(program: Command, rt: CliRuntime): void {
  const doctor = program
    .command('doctor')
    .description(
      'check the running daemon (exit 0 when no check is at error level); `doctor routes` for routes',
    )
    .option(
      '--cors-origin <origin>',
      'also run a browser preflight from this origin (e.g. http://localhost:5173)',
    )
    .option('--no-integrity', 'skip the store integrity check (SQLite quick_check reads the whole file)')
    .action(async (opts: { corsOrigin?: string; integrity: boolean }) => {
      const view = await runDoctor(rt.client(), opts.corsOrigin, { integrity: opts.integrity });
      rt.emit(view, renderDoctor);
      // Exit 1 = health errors found (ops-runtime §2.2).
      if (!view.ok) rt.exitCode = EXIT.failure;
    });
  registerDoctorRoutes(doctor, rt);
}
