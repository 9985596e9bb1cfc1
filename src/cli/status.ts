// `status` (GET /v1/status) and `capabilities` (GET /v1/capabilities).
import type { Command } from 'commander';
import type { JsonObject } from '../sdk/types.ts';
import { arr, keyValues, num, obj, scalar, str } from './format.ts';
import type { CliRuntime } from './runtime.ts';

const RUN_COUNTS = [
  'queued',
  'running',
  'waiting_for_approval',
  'waiting_for_user_question',
  'completed',
  'failed',
  'interrupted',
  'cancelled',
];

function routesText(readiness: unknown): string | undefined {
  const routes = arr(obj(readiness)?.routes).map((r) => obj(r) ?? {});
  if (routes.length === 0) return undefined;
  return routes
    .map((r) => {
      const id = scalar(r.route_id ?? r.id ?? r.route);
      const state = scalar(
        r.readiness ?? r.status ?? r.state ?? (r.ok === undefined ? undefined : r.ok ? 'ok' : 'error'),
      );
      const why = str(r.message) ?? str(r.reason);
      return `${id}: ${state}${why ? ` (${why})` : ''}`;
    })
    .join('\n');
}

/** `total N (a 1, b 2)` listing only the non-zero counts; undefined when the section is absent. */
function countsText(section: JsonObject | undefined, keys: string[]): string | undefined {
  if (!section) return undefined;
  const parts = keys.filter((k) => (num(section[k]) ?? 0) > 0).map((k) => `${k} ${section[k]}`);
  return `${scalar(section.total ?? 0)}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

function agentsText(a: JsonObject | undefined): string | undefined {
  if (!a) return undefined;
  return `${scalar(a.primary_count ?? 0)} primary, ${scalar(a.sidechain_count ?? 0)} sidechains (${scalar(a.live_sidechain_count ?? 0)} live)`;
}

/** One line per replica of the database: which is this one, whether it is alive, which runs it executes. */
function replicaLines(r: JsonObject | undefined): string[] {
  const replicas = arr(r?.replicas).map((x) => obj(x) ?? {});
  if (replicas.length === 0) return [];
  const lines = [`replicas (lease ttl ${scalar(r?.lease_ttl_ms)} ms):`];
  for (const x of replicas) {
    const runs = arr(x.live_runs).map((id) => scalar(id));
    const state =
      x.stopped_at_ms !== null && x.stopped_at_ms !== undefined ? 'stopped' : x.alive ? 'alive' : 'silent';
    lines.push(
      `  ${x.self ? '*' : ' '} ${scalar(x.replica_id)} ${state} ${scalar(x.url ?? '-')} pid ${scalar(x.pid)}: ${runs.length} live run${runs.length === 1 ? '' : 's'}${runs.length ? ` (${runs.slice(0, 5).join(', ')}${runs.length > 5 ? ', …' : ''})` : ''}`,
    );
  }
  return lines;
}

export function renderStatus(view: JsonObject): string[] {
  const caps = obj(view.capabilities);
  const runs = obj(view.runs);
  const runtime = obj(view.runtime);
  const health = obj(view.health);
  const storage = obj(view.storage);
  const counts = runs
    ? RUN_COUNTS.filter((k) => num(runs[k]) !== undefined)
        .map((k) => `${k} ${runs[k]}`)
        .join(', ')
    : '';
  const approvals = num(runs?.pending_approval_count);
  const questions = num(runs?.pending_question_count);
  const version = str(caps?.control_plane_version);
  const lines = keyValues([
    ['status', `${scalar(view.status)}${view.ready ? '' : ' (not ready)'}`],
    [
      'version',
      version
        ? `${version}${caps?.api_revision === undefined ? '' : ` (api revision ${caps.api_revision})`}`
        : undefined,
    ],
    ['route', str(runtime?.route) ?? str(runtime?.provider) ?? str(runtime?.default_route)],
    ['model', str(runtime?.model)],
    ['sessions', scalar(obj(view.sessions)?.total)],
    ['runs', counts || undefined],
    [
      'pending',
      approvals === undefined && questions === undefined
        ? undefined
        : `${approvals ?? 0} approvals, ${questions ?? 0} questions`,
    ],
    ['agents', agentsText(obj(view.agents))],
    [
      'tasks',
      countsText(obj(view.tasks), ['pending', 'in_progress', 'blocked', 'completed', 'failed', 'cancelled']),
    ],
    ['schedules', countsText(obj(view.schedules), ['active', 'paused', 'completed', 'canceled'])],
    ['routes', routesText(view.provider_readiness)],
    [
      'storage',
      storage
        ? `${storage.ok === false ? 'error' : 'ok'}${str(storage.dialect) ? ` (${storage.dialect})` : ''}`
        : undefined,
    ],
    ['health', health ? (health.ok === false ? 'degraded' : 'ok') : undefined],
  ]);
  lines.push(...replicaLines(obj(view.replicas)));
  const warnings = arr(health?.warnings).map((w) => obj(w) ?? {});
  if (warnings.length > 0) {
    lines.push('warnings:');
    for (const w of warnings) {
      const action = str(w.action) ? ` (${w.action})` : '';
      lines.push(`  [${scalar(w.severity)}] ${scalar(w.code)}: ${scalar(w.message, 200)}${action}`);
    }
  }
  return lines;
}

export function renderCapabilities(view: JsonObject): string[] {
  return keyValues(Object.entries(view).map(([k, v]) => [k, scalar(v)]));
}

export function registerStatus(program: Command, rt: CliRuntime): void {
  program
    .command('status')
    .description('operator snapshot of the daemon (GET /v1/status)')
    .action(async () => {
      rt.emit(await rt.client().status(), renderStatus);
    });

  program
    .command('capabilities')
    .description('API revision and feature flags (GET /v1/capabilities)')
    .action(async () => {
      rt.emit(await rt.client().capabilities(), renderCapabilities);
    });
}
