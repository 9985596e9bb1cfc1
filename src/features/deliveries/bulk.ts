// The operator's bulk actions on the queue (ops-runtime §2.11; api-core §3.1 lists their paths as
// implementation routes): replay-bulk queues a replay of each matching dead letter, and
// reset-backpressure makes every waiting delivery of a target (or a plugin) due now. Both have a
// dry run that changes nothing (docs/decisions.md #294).
import type { EventLog } from '../../store/event-log.ts';
import {
  type DeliveryRow,
  deliveryView,
  getDelivery,
  insertDelivery,
  latestReplayOf,
  normalizeDelivery,
  OPEN_STATUSES,
} from '../../store/repos/deliveries.ts';
import type { Store } from '../../store/store.ts';
import { deliveryTrace } from './delivery-rules.ts';

export interface ReplayBulkRequest {
  session_id?: string;
  run_id?: string;
  plugin?: string;
  limit?: number;
  dry_run?: boolean;
  force?: boolean;
  include_resolved?: boolean;
}

export const BULK_DEFAULT_LIMIT = 100;
export const BULK_MAX_LIMIT = 1000;

type NewRow = (now: number, original: DeliveryRow) => Omit<DeliveryRow, 'id'>;

/**
 * Dead letters oldest first, matching the filters; resolved ones only with `include_resolved`,
 * and those already replayed only with `force` (a non-forced replay would return the old one).
 */
export async function replayBulk(
  store: Store,
  events: EventLog,
  req: ReplayBulkRequest,
  newReplay: NewRow,
  wake: () => void,
) {
  const limit = Math.min(req.limit ?? BULK_DEFAULT_LIMIT, BULK_MAX_LIMIT);
  return store.write(async (tx) => {
    let q = tx.db.selectFrom('deliveries').selectAll().where('status', '=', 'dead_lettered');
    if (req.session_id !== undefined) q = q.where('session_id', '=', req.session_id);
    if (req.run_id !== undefined) q = q.where('run_id', '=', req.run_id);
    if (req.plugin !== undefined) q = q.where('plugin', '=', req.plugin);
    if (!req.include_resolved) q = q.where('resolved_at_ms', 'is', null);
    const candidates: DeliveryRow[] = [];
    for (const raw of await q.orderBy('id', 'asc').execute()) {
      if (candidates.length >= limit) break;
      const row = normalizeDelivery(raw);
      if (!req.force && (await latestReplayOf(tx.db, row.delivery_id))) continue;
      candidates.push(row);
    }
    const replays: unknown[] = [];
    if (!req.dry_run) {
      for (const original of candidates) {
        const fresh = newReplay(tx.now, original);
        await insertDelivery(tx.db, fresh);
        await deliveryTrace(events, tx, { ...fresh, id: 0 });
        replays.push(deliveryView((await getDelivery(tx.db, fresh.delivery_id))!));
      }
      if (replays.length > 0) tx.afterCommit(wake);
    }
    return {
      dry_run: req.dry_run === true,
      candidate_delivery_ids: candidates.map((c) => c.delivery_id),
      replays,
    };
  });
}

/** Waiting (not in flight) open deliveries of a target digest or a plugin become due now. */
export async function resetBackpressure(
  store: Store,
  req: { target_digest?: string; plugin?: string; dry_run?: boolean },
  wake: () => void,
) {
  return store.write(async (tx) => {
    let q = tx.db
      .selectFrom('deliveries')
      .select(['delivery_id', 'target_digest'])
      .where('status', 'in', OPEN_STATUSES)
      .where('in_flight_since_ms', 'is', null)
      .where('next_attempt_at_ms', '>', tx.now);
    if (req.target_digest !== undefined) q = q.where('target_digest', '=', req.target_digest);
    if (req.plugin !== undefined) q = q.where('plugin', '=', req.plugin);
    const rows = await q.execute();
    if (!req.dry_run && rows.length > 0) {
      await tx.db
        .updateTable('deliveries')
        .set({ next_attempt_at_ms: tx.now, updated_at_ms: tx.now })
        .where(
          'delivery_id',
          'in',
          rows.map((r) => r.delivery_id),
        )
        .execute();
      tx.afterCommit(wake);
    }
    return {
      dry_run: req.dry_run === true,
      reset_count: rows.length,
      target_digests: [...new Set(rows.map((r) => r.target_digest))],
    };
  });
}
