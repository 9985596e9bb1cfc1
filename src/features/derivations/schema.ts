// Wire types of the derivations API (api-core §8.5): the contract, also in /v1/openapi.json.
import { z } from 'zod';

export const PROFILES = ['canonical_text', 'visual_preview'] as const;
export type Profile = (typeof PROFILES)[number];

export const DerivationSubject = z.discriminatedUnion('type', [
  z.object({ type: z.literal('asset'), asset_id: z.string().min(1).max(256) }).strict(),
  z.object({ type: z.literal('observation'), observation_id: z.string().min(1).max(256) }).strict(),
  z
    .object({
      type: z.literal('session_input'),
      session_id: z.string().min(1).max(256),
      offset: z.number().int().min(0),
    })
    .strict(),
]);
export type DerivationSubject = z.infer<typeof DerivationSubject>;

/** Trimming and the limits are applied by the service (so the errors name the field in our words). */
export const TranscriptionOptions = z
  .object({
    prompt: z.string().optional(),
    language: z.string().optional(),
    timestamp_granularities: z.array(z.enum(['word', 'segment'])).optional(),
  })
  .strict();
export type TranscriptionOptions = z.infer<typeof TranscriptionOptions>;

export const CreateDerivationRequest = z
  .object({
    profile: z.enum(PROFILES),
    subject: DerivationSubject,
    transcription: TranscriptionOptions.optional(),
  })
  .strict();
export type CreateDerivationRequest = z.infer<typeof CreateDerivationRequest>;

const flag = z.enum(['true', 'false', '1', '0']).optional();
export const CreateDerivationQuery = z.object({ force_refresh: flag, retry_failed: flag }).strict();

export const DerivationParams = z.object({ derivation_id: z.string().min(1) });

export const ListDerivationsQuery = z.object({
  query: z.string().optional(),
  page: z.string().optional(),
  cursor: z.string().optional(),
  limit: z.string().optional(),
});

export const DerivationBackend = z.object({
  kind: z.string(),
  route_id: z.string(),
  provider: z.string(),
  model: z.string(),
  pipeline_version: z.number(),
  stitching_strategy: z.string(),
  part_count: z.number(),
  timestamp_asset_id: z.string().optional(),
});
export type DerivationBackend = z.infer<typeof DerivationBackend>;

export const DerivationView = z.object({
  derivation_id: z.string(),
  profile: z.enum(PROFILES),
  subject: DerivationSubject,
  result_asset_id: z.string().nullable(),
  reused_subject_asset: z.boolean(),
  created_at_ms: z.number(),
  status: z.enum(['completed', 'failed']),
  profile_version: z.number(),
  source_fingerprint: z.string(),
  backend: DerivationBackend.optional(),
  error: z.string().optional(),
  /** Only on POST responses: `miss` when this request created the record, `hit` when it reused one. */
  cache_status: z.enum(['miss', 'hit']).optional(),
});
export type DerivationView = z.infer<typeof DerivationView>;
