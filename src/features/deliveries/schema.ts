// Wire types of output routing: reply-target requests and views (api-core §3.4) and the
// redacted delivery views and queue actions (api-core §3.14, api-collab §8).
import { z } from 'zod';

/** A normalized destination; `address` is plugin-specific (often JSON text). */
export const ReplyHandle = z.object({ plugin: z.string(), address: z.string() }).meta({ id: 'ReplyHandle' });

/**
 * A reply-target request: a ReplyHandle, or a structured variant tagged `type` (raw, http,
 * telegram, slack, external; the plugin that claims the type checks its fields).
 */
export const ReplyTargetRequest = z
  .looseObject({ type: z.string().optional(), plugin: z.string().optional(), address: z.string().optional() })
  .meta({ id: 'ReplyTargetRequest' });

/** `{"reply_targets": [...]}`, or the bare array. */
export const SetReplyTargetsBody = z.union([
  z.object({ reply_targets: z.array(ReplyTargetRequest).nullable() }).strict(),
  z.array(ReplyTargetRequest),
]);

export const SessionReplyTargetsView = z
  .object({ reply_targets: z.array(ReplyHandle) })
  .meta({ id: 'SessionReplyTargetsView' });

export const SessionParams = z.object({ session_id: z.string().min(1) });
export const SessionViewLoose = z.record(z.string(), z.unknown());

export const DeliveryStatus = z.enum(['pending', 'retrying', 'delivered', 'dead_lettered']);

export const DeliveryView = z
  .object({
    delivery_id: z.string(),
    run_id: z.string(),
    session_id: z.string(),
    plugin: z.string(),
    target_digest: z.string(),
    status: DeliveryStatus,
    attempts: z.number().int(),
    source_kind: z.string(),
    part_count: z.number().int(),
    artifact_count: z.number().int(),
    created_at_ms: z.number().int(),
    updated_at_ms: z.number().int(),
    next_attempt_at_ms: z.number().int().optional(),
    in_flight: z.boolean().optional(),
    last_error_code: z.string().optional(),
    last_error: z.string().optional(),
    delivered_at_ms: z.number().int().optional(),
    dead_lettered_at_ms: z.number().int().optional(),
    needs_operator: z.boolean().optional(),
    replayed_from_delivery_id: z.string().optional(),
    resolution: z.object({ resolved_at_ms: z.number().int(), reason: z.string() }).optional(),
  })
  .meta({ id: 'DeliveryView' });

export const ListDeliveriesQuery = z.object({
  session_id: z.string().optional(),
  run_id: z.string().optional(),
  plugin: z.string().optional(),
  // The CLI spells it with a dash (`dead-lettered`); both are accepted.
  status: z.enum(['pending', 'retrying', 'delivered', 'dead_lettered', 'dead-lettered']).optional(),
  page: z.string().optional(),
  cursor: z.string().optional(),
  limit: z.string().optional(),
});
export const DeadLetterQuery = ListDeliveriesQuery.omit({ status: true });

export const DeliveryParams = z.object({ delivery_id: z.string().min(1) });
export const ReplayQuery = z.object({ force: z.enum(['true', 'false', '1', '0']).optional() });
export const ResolveBody = z.object({ reason: z.string().trim().min(1).max(2000) }).strict();

export type ListDeliveriesQuery = z.infer<typeof ListDeliveriesQuery>;

export const ReplayBulkBody = z
  .object({
    session_id: z.string().optional(),
    run_id: z.string().optional(),
    plugin: z.string().optional(),
    limit: z.number().int().min(1).max(1000).optional(),
    dry_run: z.boolean().optional(),
    force: z.boolean().optional(),
    include_resolved: z.boolean().optional(),
  })
  .strict();
export const ResetBackpressureBody = z
  .object({
    target_digest: z.string().optional(),
    plugin: z.string().optional(),
    dry_run: z.boolean().optional(),
  })
  .strict();
