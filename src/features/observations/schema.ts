// Wire types of the observations API (api-core §8.1–8.4): the contract, also in /v1/openapi.json.
import { z } from 'zod';
import { SubmitInputRequest } from '../runs/schema.ts';

export const SOURCE_KINDS = ['screen_snapshot', 'webcam_snapshot', 'microphone_segment'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

/** Accepted media per kind (strict, narrower than the asset store). */
export const KIND_MEDIA: Record<SourceKind, readonly string[]> = {
  screen_snapshot: ['image/png', 'image/jpeg'],
  webcam_snapshot: ['image/png', 'image/jpeg'],
  microphone_segment: ['audio/wav', 'audio/webm'],
};

const MIB = 1024 * 1024;
export const SOURCE_DEFAULTS = {
  sensitivity: 'sensitive',
  retention_seconds: 7 * 24 * 3600,
  max_active_observations: 512,
  max_active_bytes: 512 * MIB,
  ingest_rate_limit_window_ms: 60_000,
  ingest_rate_limit_burst: 120,
  purge_raw_on_retention: false,
  allow_materialization: true,
  allow_output_delivery: false,
} as const;

const posInt = z.number().int().positive();
/** A bearer token: printable ASCII without spaces (it travels in an Authorization header). */
export const UploadToken = z
  .string()
  .min(16, 'upload_token must be at least 16 characters')
  .max(512)
  .regex(/^[\x21-\x7e]+$/, 'upload_token must be printable ASCII without spaces');

export const CreateSourceRequest = z
  .object({
    source_id: z.string().optional(),
    display_name: z.string().trim().min(1).max(256),
    kind: z.enum(SOURCE_KINDS),
    upload_token: UploadToken,
    sensitivity: z.string().trim().min(1).max(64).optional(),
    retention_seconds: posInt.optional(),
    max_active_observations: posInt.optional(),
    max_active_bytes: posInt.optional(),
    ingest_rate_limit_window_ms: posInt.optional(),
    ingest_rate_limit_burst: posInt.optional(),
    purge_raw_on_retention: z.boolean().optional(),
    allow_materialization: z.boolean().optional(),
    allow_output_delivery: z.boolean().optional(),
  })
  .strict();

export const RotateTokenRequest = z
  .object({
    upload_token: UploadToken,
    grace_period_ms: z
      .number()
      .int()
      .min(0)
      .max(7 * 24 * 3600_000)
      .optional(),
  })
  .strict();
export const RevokeTokenRequest = z
  .object({ reason: z.string().max(512).optional() })
  .strict()
  .optional();

export const ObservationSourceView = z
  .object({
    source_id: z.string(),
    display_name: z.string(),
    kind: z.string(),
    accepted_media_types: z.array(z.string()),
    sensitivity: z.string(),
    retention_seconds: z.number().int(),
    max_active_observations: z.number().int(),
    max_active_bytes: z.number().int(),
    ingest_rate_limit_window_ms: z.number().int(),
    ingest_rate_limit_burst: z.number().int(),
    purge_raw_on_retention: z.boolean(),
    allow_materialization: z.boolean(),
    allow_output_delivery: z.boolean(),
    upload_token_version: z.number().int(),
    upload_token_state: z.enum(['active', 'revoked']),
    upload_token_issued_at_ms: z.number().int().nullable(),
    upload_token_expires_at_ms: z.number().int().nullable(),
    previous_token_valid_until_ms: z.number().int().nullable(),
    capture_owned: z.boolean(),
    capture_machine_id: z.string().nullable(),
    disabled: z.boolean(),
    disabled_at_ms: z.number().int().nullable(),
    created_at_ms: z.number().int(),
    updated_at_ms: z.number().int(),
  })
  .meta({ id: 'ObservationSourceView' });

export const SourceParams = z.object({ source_id: z.string().min(1) });
export const ListSourcesQuery = z.object({
  query: z.string().optional(),
  page: z.string().optional(),
  cursor: z.string().optional(),
  limit: z.string().optional(),
});

export const UploadRequest = z
  .object({
    upload: z
      .object({
        file_name: z.string().trim().min(1).max(256),
        media_type: z.string().trim().min(1).max(128),
        content_base64: z.string().min(1),
      })
      .strict(),
    idempotency_key: z.string().trim().min(1).max(256),
    captured_at_ms: z.number().int().min(0).optional(),
    stream_id: z
      .string()
      .max(128)
      .regex(/^[A-Za-z0-9._:-]+$/, 'stream_id allows ASCII letters, digits, ".", "_", ":" and "-"')
      .optional(),
    seq_no: z.number().int().min(0).optional(),
    canonical_text: z
      .string()
      .max(1024 * 1024)
      .optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export const ObservationView = z
  .object({
    observation_id: z.string(),
    source_id: z.string(),
    kind: z.string(),
    sensitivity: z.string(),
    retention_state: z.enum(['active', 'purged']),
    asset_id: z.string(),
    canonical_text_asset_id: z.string().nullable(),
    media_type: z.string(),
    sha256: z.string(),
    byte_length: z.number().int(),
    captured_at_ms: z.number().int(),
    received_at_ms: z.number().int(),
    stream_id: z.string().nullable(),
    seq_no: z.number().int().nullable(),
    idempotency_key: z.string(),
    request_fingerprint: z.string(),
    metadata: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'ObservationView' });

export const ObservationParams = z.object({ observation_id: z.string().min(1) });
export const ListObservationsQuery = z.object({
  source_id: z.string().optional(),
  stream_id: z.string().optional(),
  after_ms: z.string().optional(),
  before_ms: z.string().optional(),
  include_purged: z.string().optional(),
  page: z.string().optional(),
  cursor: z.string().optional(),
  limit: z.string().optional(),
});

export const AuditQuery = z.object({
  source_id: z.string().optional(),
  event: z.string().optional(),
  machine_id: z.string().optional(),
  limit: z.string().optional(),
});

export const ObservationAuditRecord = z
  .object({
    audit_id: z.number().int(),
    at_ms: z.number().int(),
    event: z.string(),
    source_id: z.string().nullable(),
    machine_id: z.string().nullable(),
    observation_id: z.string().nullable(),
    detail: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'ObservationAuditRecord' });

const lookback = z.number().int().positive().optional();
export const Selection = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('observation_ids'),
      observation_ids: z.array(z.string().min(1)).min(1).max(100),
    })
    .strict(),
  z
    .object({
      type: z.literal('latest_from_source'),
      source_id: z.string().min(1),
      max_observations: posInt.max(100).optional(),
      lookback_seconds: lookback,
    })
    .strict(),
  z
    .object({
      type: z.literal('latest_from_stream'),
      source_id: z.string().min(1),
      stream_id: z.string().min(1),
      max_observations: posInt.max(100).optional(),
      lookback_seconds: lookback,
    })
    .strict(),
  z
    .object({
      type: z.literal('observation_group'),
      capture_group_id: z.string().min(1),
      max_observations: posInt.max(100).optional(),
      lookback_seconds: lookback,
    })
    .strict(),
]);

export const MaterializationRequest = z
  .object({
    target_session_id: z.string().min(1),
    selection: Selection,
    request: SubmitInputRequest,
    include_raw_assets: z.boolean().optional(),
    raw_asset_policy: z.enum(['auto', 'never', 'always']).optional(),
    fail_when_empty: z.boolean().optional(),
  })
  .strict();

export type CreateSourceRequest = z.infer<typeof CreateSourceRequest>;
export type RotateTokenRequest = z.infer<typeof RotateTokenRequest>;
export type ObservationSourceView = z.infer<typeof ObservationSourceView>;
export type UploadRequest = z.infer<typeof UploadRequest>;
export type ObservationView = z.infer<typeof ObservationView>;
export type ObservationAuditRecord = z.infer<typeof ObservationAuditRecord>;
export type Selection = z.infer<typeof Selection>;
export type MaterializationRequest = z.infer<typeof MaterializationRequest>;
