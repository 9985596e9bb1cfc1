// Delivery rows (api-collab §8): the queue, its claims and its redacted views. The address and
// the payload metadata stay in the row; every view shows the target digest only.
import type { DeliveriesTable, Executor } from '../schema.ts';

export type DeliveryRow = Omit<DeliveriesTable, 'id'> & { id: number };
export type DeliveryStatus = 'pending' | 'retrying' | 'delivered' | 'dead_lettered';
export const OPEN_STATUSES: DeliveryStatus[] = ['pending', 'retrying'];

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export function normalizeDelivery(r: Omit<DeliveriesTable, 'id'> & { id: number }): DeliveryRow {
  return {
    ...r,
    id: Number(r.id),
    attempts: Number(r.attempts),
    next_attempt_at_ms: Number(r.next_attempt_at_ms),
    in_flight_since_ms: num(r.in_flight_since_ms),
    lease_expires_at_ms: num(r.lease_expires_at_ms),
    needs_operator: Number(r.needs_operator),
    resolved_at_ms: num(r.resolved_at_ms),
    created_at_ms: Number(r.created_at_ms),
    updated_at_ms: Number(r.updated_at_ms),
    delivered_at_ms: num(r.delivered_at_ms),
    dead_lettered_at_ms: num(r.dead_lettered_at_ms),
  };
}

export async function insertDelivery(db: Executor, row: Omit<DeliveryRow, 'id'>): Promise<void> {
  await db.insertInto('deliveries').values(row).execute();
}

export async function getDelivery(db: Executor, deliveryId: string): Promise<DeliveryRow | undefined> {
  const r = await db
    .selectFrom('deliveries')
    .selectAll()
    .where('delivery_id', '=', deliveryId)
    .executeTakeFirst();
  return r && normalizeDelivery(r);
}

export async function deliveriesOfRun(db: Executor, runId: string): Promise<DeliveryRow[]> {
  const rows = await db
    .selectFrom('deliveries')
    .selectAll()
    .where('run_id', '=', runId)
    .orderBy('id', 'asc')
    .execute();
  return rows.map(normalizeDelivery);
}

export interface DeliveryFilter {
  session_id?: string;
  run_id?: string;
  plugin?: string;
  status?: DeliveryStatus;
  /** Rows after this id (the cursor's key). */
  after_id?: number;
  limit?: number;
}

export async function listDeliveries(
  db: Executor,
  f: DeliveryFilter,
): Promise<{ rows: DeliveryRow[]; total: number }> {
  let q = db.selectFrom('deliveries');
  if (f.session_id !== undefined) q = q.where('session_id', '=', f.session_id);
  if (f.run_id !== undefined) q = q.where('run_id', '=', f.run_id);
  if (f.plugin !== undefined) q = q.where('plugin', '=', f.plugin);
  if (f.status !== undefined) q = q.where('status', '=', f.status);
  const total = Number(
    (await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n,
  );
  let rows = q.selectAll().orderBy('id', 'asc');
  if (f.after_id !== undefined) rows = rows.where('id', '>', f.after_id);
  if (f.limit !== undefined) rows = rows.limit(f.limit);
  return { rows: (await rows.execute()).map(normalizeDelivery), total };
}

/** The latest replay of a delivery (a non-forced replay returns it again). */
export async function latestReplayOf(db: Executor, deliveryId: string): Promise<DeliveryRow | undefined> {
  const r = await db
    .selectFrom('deliveries')
    .selectAll()
    .where('replayed_from_delivery_id', '=', deliveryId)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return r && normalizeDelivery(r);
}

/**
 * Open deliveries that may be attempted now: due, not in flight, and the oldest open delivery of
 * their target (one in flight per target, FIFO).
 */
export async function claimableDeliveries(db: Executor, now: number, limit: number): Promise<DeliveryRow[]> {
  const rows = await db
    .selectFrom('deliveries as d')
    .selectAll('d')
    .where('d.status', 'in', OPEN_STATUSES)
    .where('d.next_attempt_at_ms', '<=', now)
    .where('d.in_flight_since_ms', 'is', null)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('deliveries as e')
            .select('e.id')
            .whereRef('e.target_digest', '=', 'd.target_digest')
            .where('e.status', 'in', OPEN_STATUSES)
            .whereRef('e.id', '<', 'd.id'),
        ),
      ),
    )
    .orderBy('d.id', 'asc')
    .limit(limit)
    .execute();
  return rows.map(normalizeDelivery);
}

/** When the next open delivery becomes due (null when none waits). */
export async function nextDueAt(db: Executor): Promise<number | null> {
  const r = await db
    .selectFrom('deliveries')
    .select((eb) => eb.fn.min<number>('next_attempt_at_ms').as('at'))
    .where('status', 'in', OPEN_STATUSES)
    .where('in_flight_since_ms', 'is', null)
    .executeTakeFirst();
  return r?.at === null || r?.at === undefined ? null : Number(r.at);
}

/**
 * Attempts started by a process that is gone: in flight with an expired lease, or (at start-up)
 * leased by this replica's previous process.
 */
export async function orphanedAttempts(
  db: Executor,
  now: number,
  ownPrevious: string | null,
): Promise<DeliveryRow[]> {
  const rows = await db
    .selectFrom('deliveries')
    .selectAll()
    .where('in_flight_since_ms', 'is not', null)
    .where((eb) => {
      const expired = eb('lease_expires_at_ms', '<', now);
      return ownPrevious === null ? expired : eb.or([expired, eb('lease_owner', '=', ownPrevious)]);
    })
    .orderBy('id', 'asc')
    .execute();
  return rows.map(normalizeDelivery);
}

export async function updateDelivery(
  db: Executor,
  deliveryId: string,
  patch: Partial<Omit<DeliveryRow, 'id' | 'delivery_id'>>,
  guard?: { lease_owner: string; in_flight_since_ms: number },
): Promise<boolean> {
  let q = db.updateTable('deliveries').set(patch).where('delivery_id', '=', deliveryId);
  if (guard)
    q = q
      .where('lease_owner', '=', guard.lease_owner)
      .where('in_flight_since_ms', '=', guard.in_flight_since_ms);
  const r = await q.executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export interface DeliveryCounts {
  pending: number;
  retrying: number;
  delivered: number;
  dead_lettered: number;
  in_flight: number;
  unresolved_dead_lettered: number;
  needs_operator: number;
  oldest_due_at_ms: number | null;
  by_plugin: Record<string, Record<DeliveryStatus, number>>;
}

export async function deliveryCounts(db: Executor): Promise<DeliveryCounts> {
  const byStatus = await db
    .selectFrom('deliveries')
    .select(['plugin', 'status', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy(['plugin', 'status'])
    .execute();
  const counts: DeliveryCounts = {
    pending: 0,
    retrying: 0,
    delivered: 0,
    dead_lettered: 0,
    in_flight: 0,
    unresolved_dead_lettered: 0,
    needs_operator: 0,
    oldest_due_at_ms: null,
    by_plugin: {},
  };
  for (const r of byStatus) {
    const status = r.status as DeliveryStatus;
    counts[status] += Number(r.n);
    const p = counts.by_plugin[r.plugin] ?? { pending: 0, retrying: 0, delivered: 0, dead_lettered: 0 };
    p[status] += Number(r.n);
    counts.by_plugin[r.plugin] = p;
  }
  const unresolved = await unresolvedDeadLetters(db)
    .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.sum<number>('d.needs_operator').as('ops')])
    .executeTakeFirstOrThrow();
  counts.unresolved_dead_lettered = Number(unresolved.n);
  counts.needs_operator = Number(unresolved.ops ?? 0);
  const open = await db
    .selectFrom('deliveries')
    .select((eb) => [
      eb.fn.min<number>('next_attempt_at_ms').as('oldest'),
      eb.fn.count<number>('in_flight_since_ms').as('in_flight'),
    ])
    .where('status', 'in', OPEN_STATUSES)
    .executeTakeFirstOrThrow();
  counts.in_flight = Number(open.in_flight ?? 0);
  counts.oldest_due_at_ms = open.oldest === null ? null : Number(open.oldest);
  return counts;
}

/** Dead letters neither resolved by an operator nor followed by a delivered replay. */
export function unresolvedDeadLetters(db: Executor) {
  return db
    .selectFrom('deliveries as d')
    .where('d.status', '=', 'dead_lettered')
    .where('d.resolved_at_ms', 'is', null)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('deliveries as r')
            .select('r.id')
            .whereRef('r.replayed_from_delivery_id', '=', 'd.delivery_id')
            .where('r.status', '=', 'delivered'),
        ),
      ),
    );
}

/** The redacted DeliveryView: the plugin and a target digest, never the address or metadata (typed loosely: the route's zod schema checks it). */
export function deliveryView(r: DeliveryRow): any {
  const payload = JSON.parse(r.payload) as { parts?: unknown[]; artifacts?: unknown[]; source_kind?: string };
  const view: Record<string, unknown> = {
    delivery_id: r.delivery_id,
    run_id: r.run_id,
    session_id: r.session_id,
    plugin: r.plugin,
    target_digest: r.target_digest,
    status: r.status,
    attempts: r.attempts,
    source_kind: payload.source_kind ?? 'assistant_text',
    part_count: payload.parts?.length ?? 0,
    artifact_count: payload.artifacts?.length ?? 0,
    created_at_ms: r.created_at_ms,
    updated_at_ms: r.updated_at_ms,
  };
  if (r.status === 'pending' || r.status === 'retrying') {
    view.next_attempt_at_ms = r.next_attempt_at_ms;
    view.in_flight = r.in_flight_since_ms !== null;
  }
  if (r.last_error_code !== null) view.last_error_code = r.last_error_code;
  if (r.last_error !== null) view.last_error = r.last_error;
  if (r.delivered_at_ms !== null) view.delivered_at_ms = r.delivered_at_ms;
  if (r.dead_lettered_at_ms !== null) view.dead_lettered_at_ms = r.dead_lettered_at_ms;
  if (r.needs_operator) view.needs_operator = true;
  if (r.replayed_from_delivery_id !== null) view.replayed_from_delivery_id = r.replayed_from_delivery_id;
  if (r.resolved_at_ms !== null)
    view.resolution = { resolved_at_ms: r.resolved_at_ms, reason: r.resolution_reason ?? '' };
  return view;
}
