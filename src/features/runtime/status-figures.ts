// The derived parts of GET /v1/status, as pure functions of what was read: run ages and idle times,
// provider readiness and the health verdict (api-core §5.2, ops-runtime §13).
import type { LiveRunTiming } from '../../store/repos/runs.ts';

const envMs = (name: string, fallback: number): number => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};

export const QUEUED_RUN_LAG_THRESHOLD_MS = envMs('KHEISH_QUEUED_RUN_LAG_WARNING_THRESHOLD_MS', 30 * 60_000);
export const STALE_RUN_THRESHOLD_MS = envMs('KHEISH_STALE_NON_TERMINAL_RUN_THRESHOLD_MS', 30 * 60_000);
/** The sample of stale runs is bounded so the status stays small when many runs are stuck. */
const STALE_SAMPLE = 10;

export interface HealthWarning {
  severity: 'info' | 'warning' | 'error';
  code: string;
  message: string;
  related_id?: string;
  action?: string;
}

/** Ages of live runs; `null` where there is no such run. */
export function runTimings(live: LiveRunTiming[], now: number) {
  let oldestQueued: LiveRunTiming | null = null;
  let oldest: LiveRunTiming | null = null;
  let idlest: LiveRunTiming | null = null;
  const stale: Array<{ id: string; idle: number }> = [];
  const depth = new Map<string, number>();
  for (const r of live) {
    if (r.status === 'queued') {
      depth.set(r.session_id, (depth.get(r.session_id) ?? 0) + 1);
      if (!oldestQueued || r.submitted_at_ms < oldestQueued.submitted_at_ms) oldestQueued = r;
    }
    if (!oldest || r.submitted_at_ms < oldest.submitted_at_ms) oldest = r;
    if (!idlest || r.activity_at_ms < idlest.activity_at_ms) idlest = r;
    const idle = now - r.activity_at_ms;
    if (idle > STALE_RUN_THRESHOLD_MS) stale.push({ id: r.run_id, idle });
  }
  stale.sort((a, b) => b.idle - a.idle);
  const age = (at: number | undefined) => (at === undefined ? null : Math.max(0, now - at));
  return {
    max_session_queue_depth: [...depth.values()].reduce((a, b) => Math.max(a, b), 0),
    oldest_queued_run_age_ms: age(oldestQueued?.submitted_at_ms),
    oldest_queued_run_id: oldestQueued?.run_id ?? null,
    // Kept from earlier releases: the same figure, 0 when nothing waits.
    oldest_queued_run_lag_ms: age(oldestQueued?.submitted_at_ms) ?? 0,
    oldest_non_terminal_run_age_ms: age(oldest?.submitted_at_ms),
    oldest_non_terminal_run_id: oldest?.run_id ?? null,
    oldest_non_terminal_run_idle_ms: age(idlest?.activity_at_ms),
    oldest_idle_non_terminal_run_id: idlest?.run_id ?? null,
    stale_non_terminal_run_count: stale.length,
    stale_non_terminal_run_ids: stale.slice(0, STALE_SAMPLE).map((s) => s.id),
    queued_run_lag_threshold_ms: QUEUED_RUN_LAG_THRESHOLD_MS,
    stale_non_terminal_run_threshold_ms: STALE_RUN_THRESHOLD_MS,
  };
}

export type RunTimingFigures = ReturnType<typeof runTimings>;

export function runWarnings(t: RunTimingFigures): HealthWarning[] {
  const out: HealthWarning[] = [];
  if (t.oldest_queued_run_age_ms !== null && t.oldest_queued_run_age_ms > QUEUED_RUN_LAG_THRESHOLD_MS)
    out.push({
      severity: 'warning',
      code: 'queued_run_lag',
      message: `the oldest queued run has waited ${Math.round(t.oldest_queued_run_age_ms / 1000)} s`,
      related_id: t.oldest_queued_run_id ?? undefined,
      action: 'look at the active run of its session (pending approvals or questions, live tasks)',
    });
  if (t.stale_non_terminal_run_count > 0)
    out.push({
      severity: 'warning',
      code: 'stale_non_terminal_runs',
      message: `${t.stale_non_terminal_run_count} non-terminal run(s) idle longer than ${t.stale_non_terminal_run_threshold_ms} ms`,
      related_id: t.stale_non_terminal_run_ids[0],
      action:
        'inspect the run (`kheish-daemon runs get <run_id>`), its pending approvals and questions; cancel it if it is stuck',
    });
  return out;
}

/** A route as GET /v1/runtime lists it (src/features/runtime/service.ts routes()). */
export interface RouteEntry {
  route_id: string;
  readiness: string;
  reason?: string;
  action?: string;
  [field: string]: unknown;
}

/** Per-route readiness with the counts an operator alerts on. */
export function providerReadiness(routes: RouteEntry[], activeRouteId: string) {
  const entries = routes.map((r) => ({
    ...r,
    state: r.readiness,
    active: r.route_id === activeRouteId,
  }));
  const count = (state: string) => entries.filter((r) => r.readiness === state).length;
  const active = entries.find((r) => r.active);
  return {
    route_count: entries.length,
    ready_route_count: count('ok'),
    warning_route_count: count('warning'),
    error_route_count: count('error'),
    active_route_id: activeRouteId,
    active_route_ready: active !== undefined && active.readiness !== 'error',
    routes: entries,
  };
}

/** Healthy means nothing above `info`. */
export function healthOf(warnings: HealthWarning[], readiness: ReturnType<typeof providerReadiness>) {
  return {
    ok: warnings.every((w) => w.severity === 'info'),
    route_error_count: readiness.error_route_count,
    route_warning_count: readiness.warning_route_count,
    warnings,
  };
}
