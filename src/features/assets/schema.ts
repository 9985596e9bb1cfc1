// Wire types of the assets API (api-core §7): the contract, also in /v1/openapi.json.
import { z } from 'zod';

export const AssetParams = z.object({ asset_id: z.string().min(1) });

export const ListAssetsQuery = z.object({
  query: z.string().optional(),
  page: z.string().optional(),
  cursor: z.string().optional(),
  limit: z.string().optional(),
});

export const ImportAssetRequest = z
  .object({
    file_name: z.string().min(1).max(1024),
    media_type: z.string().min(1).max(256).optional(),
    content_base64: z.string(),
  })
  .strict();

export const DeleteAssetQuery = z.object({ dry_run: z.enum(['true', 'false', '1', '0']).optional() });

export const AssetGcRequest = z.object({ dry_run: z.boolean().optional() }).strict();

export const AssetSummaryView = z
  .object({
    asset_id: z.string(),
    media_type: z.string(),
    file_name: z.string(),
    sha256: z.string(),
    byte_length: z.number().int(),
    created_at_ms: z.number().int(),
  })
  .meta({ id: 'AssetSummaryView' });

export const AssetView = AssetSummaryView.extend({
  uri: z.string(),
  text_uri: z.string().nullable(),
  text_sha256: z.string().nullable(),
  text_byte_length: z.number().int().nullable(),
  preview_image_uri: z.string().nullable(),
  preview_image_media_type: z.string().nullable(),
  preview_image_sha256: z.string().nullable(),
  preview_image_byte_length: z.number().int().nullable(),
  derivation_ids: z.array(z.string()),
}).meta({ id: 'AssetView' });

export const AssetReferenceView = z
  .object({
    domain: z.string(),
    owner_id: z.string(),
    role: z.string(),
    hard: z.boolean(),
    parent_id: z.string().optional(),
    detail_id: z.string().optional(),
  })
  .meta({ id: 'AssetReferenceView' });

export const AssetReferencesView = z
  .object({
    asset_id: z.string(),
    hard_reference_count: z.number().int(),
    soft_reference_count: z.number().int(),
    references: z.array(AssetReferenceView),
  })
  .meta({ id: 'AssetReferencesView' });

export const AssetPayloadFile = z
  .object({
    /** `raw`, `text` or `preview`. */
    kind: z.string(),
    uri: z.string(),
    sha256: z.string(),
    byte_length: z.number().int(),
    location: z.string(),
  })
  .meta({ id: 'AssetPayloadFile' });

export const AssetDeletePlan = AssetReferencesView.extend({
  dry_run: z.boolean(),
  blocked: z.boolean(),
  deleted: z.boolean(),
  reclaimable_bytes: z.number().int(),
  removable_files: z.array(AssetPayloadFile),
  /** Payloads another asset also names: kept when this one goes. */
  shared_files: z.array(AssetPayloadFile),
}).meta({ id: 'AssetDeletePlan' });

export const OrphanPayload = z
  .object({ sha256: z.string(), byte_length: z.number().int(), location: z.string() })
  .meta({ id: 'AssetOrphanPayload' });

export const AssetGcReport = z
  .object({
    dry_run: z.boolean(),
    /** Catalog assets without hard references: deleted, or that would be. */
    candidate_asset_ids: z.array(z.string()),
    deleted_asset_ids: z.array(z.string()),
    blocked: z.array(z.object({ asset_id: z.string(), hard_reference_count: z.number().int() })),
    orphan_payloads: z.array(OrphanPayload),
    removed_orphan_payload_count: z.number().int(),
    reclaimable_bytes: z.number().int(),
    reclaimed_bytes: z.number().int(),
  })
  .meta({ id: 'AssetGcReport' });

export type AssetDeletePlan = z.infer<typeof AssetDeletePlan>;
export type AssetPayloadFile = z.infer<typeof AssetPayloadFile>;
export type AssetGcReport = z.infer<typeof AssetGcReport>;
export type AssetReferencesView = z.infer<typeof AssetReferencesView>;
export type OrphanPayload = z.infer<typeof OrphanPayload>;
