// `doctor routes --check-auth` and `--check-references` (ops-runtime §4.6), run by the daemon:
// the secret slots its routes name, and sessions, schedules and live runs that still point at a
// route the inventory no longer has.
import type { Kysely } from 'kysely';
import { type DoctorCheck, fail, pass } from '../../config/doctor-check.ts';
import type { AuthSlotStatus } from '../../secrets/slots.ts';
import { LIVE_STATUSES } from '../../store/repos/runs.ts';
import type { Database } from '../../store/schema.ts';

/** Reference checks read at most this many rows per table (the report says when it stopped). */
const MAX_ROWS = 10_000;

export interface RouteRef {
  route_id: string;
  driver: string;
  auth_ref?: string;
}

/** Drivers whose slots are not tied to one provider name. */
const ANY_PROVIDER = new Set(['openai_compatible', 'scripted', 'generic']);
const norm = (p: string) => p.toLowerCase().replace(/[^a-z]/g, '');

export async function checkAuth(
  routes: RouteRef[],
  slotOf: (id: string) => Promise<AuthSlotStatus | undefined>,
  now = Date.now(),
): Promise<DoctorCheck[]> {
  const out: DoctorCheck[] = [];
  for (const r of routes) {
    if (!r.auth_ref) continue;
    const slot = await slotOf(r.auth_ref);
    const id = r.route_id;
    if (!slot) {
      out.push(
        fail(
          'route_auth',
          'auth_slot_missing',
          'error',
          `route ${id}: secret slot ${r.auth_ref} does not exist`,
          `kheish-daemon secrets set ${r.auth_ref} --provider ${r.driver}`,
          id,
        ),
      );
      continue;
    }
    if (
      !ANY_PROVIDER.has(r.driver) &&
      !ANY_PROVIDER.has(slot.provider) &&
      norm(slot.provider) !== norm(r.driver)
    ) {
      out.push(
        fail(
          'route_auth',
          'auth_slot_provider_mismatch',
          'error',
          `route ${id} (driver ${r.driver}) uses slot ${r.auth_ref}, which holds a ${slot.provider} credential`,
          `kheish-daemon secrets set ${r.auth_ref} --provider ${r.driver}`,
          id,
        ),
      );
      continue;
    }
    const expires = Number(slot.details.expires_at_ms ?? Number.NaN);
    if (Number.isFinite(expires) && expires <= now) {
      out.push(
        fail(
          'route_auth',
          'auth_slot_expired',
          slot.details.refresh_token_present === true ? 'warning' : 'error',
          `route ${id}: the credential in ${r.auth_ref} expired at ${new Date(expires).toISOString()}`,
          `kheish-daemon secrets set ${r.auth_ref} --provider ${r.driver}`,
          id,
        ),
      );
      continue;
    }
    out.push(
      pass('route_auth', `route ${id}: slot ${r.auth_ref} holds a ${slot.provider} ${slot.mode} credential`),
    );
  }
  if (out.length === 0) out.push(pass('route_auth', 'no route names a secret slot'));
  return out;
}

const providerOf = (json: string | null): string | null => {
  if (!json) return null;
  try {
    const v = JSON.parse(json) as { provider?: unknown };
    return typeof v.provider === 'string' ? v.provider : null;
  } catch {
    return null;
  }
};

/** A stored provider names a route when it is a route id, or a selector whose first segment is one. */
const knows = (known: Set<string>, provider: string) =>
  known.has(provider) || known.has(provider.split('/')[0]!);

export async function checkReferences(db: Kysely<Database>, routeIds: string[]): Promise<DoctorCheck[]> {
  const known = new Set(routeIds);
  const out: DoctorCheck[] = [];
  const sessions = await db
    .selectFrom('sessions')
    .select(['session_id', 'route_policy'])
    .where('ended_at_ms', 'is', null)
    .where('route_policy', 'is not', null)
    .limit(MAX_ROWS)
    .execute();
  for (const s of sessions) {
    const p = providerOf(s.route_policy);
    if (p && !knows(known, p))
      out.push(
        fail(
          'route_references',
          'stale_session_route_policy',
          'warning',
          `session ${s.session_id} prefers route ${p}, which this daemon does not have: its runs are refused (clear the policy, or add route ${p} back to the routes file)`,
          `kheish-daemon sessions set-route ${s.session_id} --clear`,
          s.session_id,
        ),
      );
  }
  const schedules = await db
    .selectFrom('schedules')
    .select(['schedule_id', 'request'])
    .where('status', 'in', ['active', 'paused'])
    .limit(MAX_ROWS)
    .execute();
  for (const s of schedules) {
    const p = providerOf(s.request);
    if (p && !knows(known, p))
      out.push(
        fail(
          'route_references',
          'stale_schedule_route',
          'warning',
          `schedule ${s.schedule_id} submits runs on route ${p}, which this daemon does not have (cancel it and create it again on an existing route)`,
          `kheish-daemon schedules cancel ${s.schedule_id}`,
          s.schedule_id,
        ),
      );
  }
  const runs = await db
    .selectFrom('runs')
    .select(['run_id', 'route_id'])
    .where('status', 'in', [...LIVE_STATUSES])
    .limit(MAX_ROWS)
    .execute();
  for (const r of runs)
    if (!known.has(r.route_id))
      out.push(
        fail(
          'route_references',
          'stale_run_route',
          'warning',
          `run ${r.run_id} is pinned to route ${r.route_id}, which this daemon does not have`,
          `kheish-daemon runs cancel ${r.run_id}`,
          r.run_id,
        ),
      );
  if (out.length === 0)
    out.push(pass('route_references', 'every session policy, schedule and live run names an existing route'));
  return out;
}
