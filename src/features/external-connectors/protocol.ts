// The external connector protocol (api-collab §6.8) as wire types: ingress events (protocol 2,
// 1 still accepted) and batches, the sidecar's manifest and health (runtime protocol 1) and its
// answer to POST /deliver. Limits are ours (the spec names them without values): decisions 310–311.
import { z } from 'zod';

/** Ingress protocol versions the daemon accepts (2 is current; 1 is the older sidecars'). */
export const INGRESS_VERSIONS = [1, 2] as const;
/** The runtime sidecar contract: manifest, health and deliver. */
export const RUNTIME_PROTOCOL_VERSION = 1;

export const LIMITS = {
  /** Request body of POST …/events (inline assets are base64 inside it). */
  eventBodyBytes: 8 * 1024 * 1024,
  /** Request body of POST …/events/batch. */
  batchBodyBytes: 16 * 1024 * 1024,
  batchEvents: 100,
  eventIdChars: 256,
  fingerprintChars: 256,
  contentChars: 100_000,
  inputItems: 64,
  attachments: 16,
  /** Inline assets per event (input_items and attachments together). */
  inlineAssets: 8,
  /** Decoded bytes of one inline asset. */
  inlineAssetBytes: 4 * 1024 * 1024,
  threadPathSegments: 16,
  threadSegmentChars: 256,
  routingKeyChars: 512,
  replyRouteChars: 8 * 1024,
  metadataBytes: 16 * 1024,
  shortChars: 256,
} as const;

const short = z.string().max(LIMITS.shortChars);

const inlineAsset = z
  .object({
    type: z.literal('inline_asset'),
    file_name: z.string().min(1).max(LIMITS.shortChars),
    media_type: short.optional(),
    content_base64: z.string().min(1),
  })
  .strict();
const assetReference = z
  .object({ type: z.literal('asset_reference'), asset_id: z.string().min(1).max(200) })
  .strict();

export const EventInputItem = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text'), text: z.string().max(LIMITS.contentChars) }).strict(),
  assetReference,
  z
    .object({
      type: z.literal('board_reference'),
      board_id: z.string().min(1).max(200),
      revision_id: z.string().max(200).optional(),
    })
    .strict(),
  inlineAsset,
]);
export type EventInputItem = z.infer<typeof EventInputItem>;

export const EventAttachment = z.discriminatedUnion('type', [assetReference, inlineAsset]);
export type EventAttachment = z.infer<typeof EventAttachment>;

/** One event as sent inside a batch (the batch carries the protocol version). */
export const ExternalEventBody = z
  .object({
    instance_id: short.optional(),
    event_id: z.string().trim().min(1).max(LIMITS.eventIdChars),
    fingerprint: z.string().max(LIMITS.fingerprintChars).optional(),
    occurred_at_ms: z.number().int().nonnegative().optional(),
    actor_id: short.optional(),
    source_kind: short.optional(),
    intent: short.optional(),
    relation: z
      .object({
        kind: z.string().min(1).max(LIMITS.shortChars),
        target_event_id: z.string().max(LIMITS.eventIdChars),
      })
      .strict()
      .optional(),
    thread: z
      .object({
        path: z.array(z.string().max(LIMITS.threadSegmentChars)).max(LIMITS.threadPathSegments),
      })
      .strict()
      .optional(),
    routing_key: z.string().max(LIMITS.routingKeyChars).optional(),
    content: z.string().max(LIMITS.contentChars).optional(),
    input_items: z.array(EventInputItem).max(LIMITS.inputItems).optional(),
    attachments: z.array(EventAttachment).max(LIMITS.attachments).optional(),
    reply_route: z.string().max(LIMITS.replyRouteChars).optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export type ExternalEventBody = z.infer<typeof ExternalEventBody>;

const version = z.number().int();

/** POST /v1/connectors/external/{name}/events. */
export const ExternalEventRequest = ExternalEventBody.extend({ protocol_version: version }).strict();
export type ExternalEventRequest = z.infer<typeof ExternalEventRequest>;

/**
 * POST …/events/batch: events are kept as raw JSON here so one malformed item is that item's
 * `rejected` result instead of failing the whole batch.
 */
export const ExternalBatchRequest = z
  .object({
    protocol_version: version,
    events: z.array(z.unknown()).min(1).max(LIMITS.batchEvents),
  })
  .strict();

export const EventStatus = z.enum(['accepted', 'duplicate', 'rejected']);

export const ExternalEventResponse = z.object({
  event_id: z.string(),
  status: EventStatus,
  session_id: z.string().nullable(),
  run_id: z.string().nullable(),
});

export const BatchItemResult = z.object({
  index: z.number().int(),
  event_id: z.string().nullable(),
  status: z.enum(['accepted', 'duplicate', 'rejected', 'rate_limited', 'error']),
  session_id: z.string().nullable(),
  run_id: z.string().nullable(),
  retry_after_ms: z.number().int().optional(),
  code: z.string().optional(),
  detail: z.string().optional(),
});
export type BatchItemResult = z.infer<typeof BatchItemResult>;

export const ExternalBatchResponse = z.object({
  protocol_version: z.number().int(),
  results: z.array(BatchItemResult),
});

/** What GET /manifest and GET /health must at least say; anything else is kept as given. */
export const SidecarManifest = z
  .object({ protocol_version: z.literal(RUNTIME_PROTOCOL_VERSION), instance_id: z.string().min(1).max(256) })
  .passthrough();
export type SidecarManifest = z.infer<typeof SidecarManifest>;

export const SidecarHealth = z
  .object({
    protocol_version: z.literal(RUNTIME_PROTOCOL_VERSION),
    instance_id: z.string().min(1).max(256),
    status: z.string().max(64).optional(),
  })
  .passthrough();
export type SidecarHealth = z.infer<typeof SidecarHealth>;

/** The sidecar's answer to POST /deliver: `committed`, or a retryable or terminal failure. */
export const DeliverAnswer = z
  .object({
    status: z.enum(['committed', 'retryable', 'retry', 'terminal', 'failed']),
    error: z.string().max(256).optional(),
    code: z.string().max(256).optional(),
  })
  .passthrough();
export type DeliverAnswer = z.infer<typeof DeliverAnswer>;
