// What the queue worker and the operator actions share: the delivery trace, the rule for an
// attempt whose outcome is unknown (docs/decisions.md #287), the stored payload shape, ids.
import { monotonicFactory } from 'ulid';
import { appendTraces } from '../../engine/traces.ts';
import type { EventLog } from '../../store/event-log.ts';
import { type DeliveryRow, deliveryView } from '../../store/repos/deliveries.ts';
import { getRun } from '../../store/repos/runs.ts';
import type { WriteTx } from '../../store/store.ts';
import type { DeliveryArtifact, DeliveryOutcome, OutputPlugin, ReplyHandle } from './port.ts';

export const ulid = monotonicFactory();

export const OUTCOME_UNKNOWN = 'outcome_unknown_after_restart';
/** An attempt failed in a way that leaves open whether the target got it (a timeout mid-request). */
export const OUTCOME_UNKNOWN_LIVE = 'outcome_unknown';

export interface StoredPayload {
  content: string;
  parts: unknown[];
  artifacts: DeliveryArtifact[];
  metadata: Record<string, unknown>;
  source_kind: string;
}

/** A `delivery_updated` trace on the run's streams and in its event list. */
export async function deliveryTrace(events: EventLog, tx: WriteTx, row: DeliveryRow): Promise<void> {
  const run = await getRun(tx.db, row.run_id);
  if (!run) return;
  await appendTraces(events, tx, run, [{ kind: 'delivery_updated', delivery: deliveryView(row) }]);
}

/** What an attempt that may or may not have reached its target leads to (docs/decisions.md #287). */
export function unknownOutcome(plugin: OutputPlugin, target: ReplyHandle, code: string): DeliveryOutcome {
  const dedupes = plugin.deduplicates?.(target) ?? plugin.receiverDeduplicates;
  return dedupes
    ? { status: 'retry', error_code: code }
    : { status: 'terminal', error_code: OUTCOME_UNKNOWN_LIVE };
}
