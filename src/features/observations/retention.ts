// Retention (api-core §8.3): observations past `retention_seconds` (from receive time) or beyond a
// source's `max_active_observations` / `max_active_bytes` (oldest first) become `purged`. The row
// stays (listable with include_purged=true); when the source sets `purge_raw_on_retention` its
// asset references turn soft, so the assets store may reclaim the bytes (decision 236).
import {
  activeOfSource,
  activeTotals,
  appendAudit,
  expiredObservations,
  getSource,
  markPurged,
  type ObservationRow,
  type SourceRow,
} from '../../store/repos/observations.ts';
import type { WriteTx } from '../../store/store.ts';
import type { ObservationsContext } from './context.ts';

const SWEEP_BATCH = 200;

export async function purgeOne(
  ctx: ObservationsContext,
  tx: WriteTx,
  o: ObservationRow,
  source: Pick<SourceRow, 'purge_raw_on_retention'> | undefined,
  reason: 'retention_expired' | 'over_observation_budget' | 'over_byte_budget',
): Promise<boolean> {
  if (!(await markPurged(tx.db, o.observation_id, tx.now, reason))) return false;
  const releaseBytes = source?.purge_raw_on_retention === 1;
  if (releaseBytes)
    await ctx
      .assets()
      .setReferencesHard({ domain: 'observations', owner_id: o.observation_id }, false, 'purged', tx.db);
  await appendAudit(tx.db, tx.now, [
    {
      event: 'retention_purged',
      source_id: o.source_id,
      observation_id: o.observation_id,
      detail: {
        reason,
        asset_ids: [o.asset_id, ...(o.canonical_text_asset_id ? [o.canonical_text_asset_id] : [])],
        raw_released: releaseBytes,
      },
    },
  ]);
  return true;
}

/** After an accepted upload, inside its transaction: purge the oldest until the source is within budget. */
export async function enforceBudget(
  ctx: ObservationsContext,
  tx: WriteTx,
  source: SourceRow,
): Promise<number> {
  const totals = await activeTotals(tx.db, source.source_id);
  if (totals.count <= source.max_active_observations && totals.bytes <= source.max_active_bytes) return 0;
  const active = await activeOfSource(tx.db, source.source_id);
  let count = active.length;
  let bytes = active.reduce((n, o) => n + o.byte_length, 0);
  let purged = 0;
  for (const o of active) {
    if (count <= source.max_active_observations && bytes <= source.max_active_bytes) break;
    const reason = count > source.max_active_observations ? 'over_observation_budget' : 'over_byte_budget';
    if (await purgeOne(ctx, tx, o, source, reason)) purged++;
    count--;
    bytes -= o.byte_length;
  }
  return purged;
}

/** One sweep of time-based retention; returns how many observations it purged. */
export async function sweepExpired(ctx: ObservationsContext): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await ctx.store.write(async (tx) => {
      const due = await expiredObservations(tx.db, tx.now, SWEEP_BATCH);
      const sources = new Map<string, SourceRow | undefined>();
      let purged = 0;
      for (const o of due) {
        if (!sources.has(o.source_id)) sources.set(o.source_id, await getSource(tx.db, o.source_id));
        if (await purgeOne(ctx, tx, o, sources.get(o.source_id), 'retention_expired')) purged++;
      }
      return { purged, more: due.length === SWEEP_BATCH };
    });
    total += n.purged;
    if (!n.more) return total;
  }
}
