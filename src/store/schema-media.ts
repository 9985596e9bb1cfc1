// Table types of assets, observations, capture agents and derivations (issue 15).
// Kept apart by domain so each file stays readable; schema-extensions.ts re-exports them.
import type { Generated } from 'kysely';

/** The asset catalog (api-core §7), migration 0021. Digests are lowercase hex SHA-256. */
export interface AssetsTable {
  asset_id: string;
  media_type: string;
  file_name: string;
  sha256: string;
  byte_length: number;
  created_at_ms: number;
  text_sha256: string | null;
  text_byte_length: number | null;
  preview_media_type: string | null;
  preview_sha256: string | null;
  preview_byte_length: number | null;
}

/** One edge of the asset reference graph; `hard` is 1 or 0. */
export interface AssetReferencesTable {
  asset_id: string;
  domain: string;
  owner_id: string;
  role: string;
  hard: number;
  parent_id: string | null;
  detail_id: string | null;
  created_at_ms: number;
}

export interface AssetTombstonesTable {
  asset_id: string;
  media_type: string;
  sha256: string;
  byte_length: number;
  deleted_at_ms: number;
  /** JSON array of payload digests a delete has yet to remove from disk, or null when done. */
  pending_digests: string | null;
}

/** Payload bytes kept in the database (PostgreSQL stores), by digest. */
export interface AssetPayloadsTable {
  sha256: string;
  byte_length: number;
  created_at_ms: number;
  data: Buffer;
}

/** Observation sources (api-core §8.2), migration 0022. Booleans are 0/1; tokens only as digests. */
export interface ObservationSourcesTable {
  source_id: string;
  display_name: string;
  kind: string;
  sensitivity: string;
  retention_seconds: number;
  max_active_observations: number;
  max_active_bytes: number;
  ingest_rate_limit_window_ms: number;
  ingest_rate_limit_burst: number;
  purge_raw_on_retention: number;
  allow_materialization: number;
  allow_output_delivery: number;
  token_digest: string | null;
  upload_token_version: number;
  token_issued_at_ms: number | null;
  token_expires_at_ms: number | null;
  previous_token_digest: string | null;
  previous_token_valid_until_ms: number | null;
  token_revoked_at_ms: number | null;
  capture_machine_id: string | null;
  disabled_at_ms: number | null;
  disabled_reason: string | null;
  created_at_ms: number;
  updated_at_ms: number;
}

/** Observations (api-core §8.3), migration 0022. `metadata` is JSON text. */
export interface ObservationsTable {
  observation_id: string;
  source_id: string;
  kind: string;
  sensitivity: string;
  retention_state: string;
  asset_id: string;
  canonical_text_asset_id: string | null;
  media_type: string;
  sha256: string;
  byte_length: number;
  captured_at_ms: number;
  received_at_ms: number;
  stream_id: string | null;
  seq_no: number | null;
  idempotency_key: string;
  request_fingerprint: string;
  metadata: string | null;
  capture_group_id: string | null;
  purged_at_ms: number | null;
  purge_reason: string | null;
}

/** The observation audit log (migration 0022); `detail` is sanitized JSON. */
export interface ObservationAuditTable {
  id: Generated<number>;
  at_ms: number;
  event: string;
  source_id: string | null;
  machine_id: string | null;
  observation_id: string | null;
  detail: string;
}

/** Capture agents (concepts §4.14), migration 0022. JSON columns hold JSON text. */
export interface CaptureAgentsTable {
  machine_id: string;
  batch_id: string;
  os_profile: string;
  status: string;
  source_ids: string;
  leases: string;
  heartbeat_token_digest: string | null;
  heartbeat_token_version: number;
  heartbeat_interval_ms: number;
  heartbeat_grace_ms: number;
  last_heartbeat_at_ms: number | null;
  heartbeat_deadline_ms: number;
  heartbeat_state: string;
  heartbeat_missing_since_ms: number | null;
  last_heartbeat_agent_version: string | null;
  last_heartbeat_observed_source_ids: string | null;
  last_heartbeat_unobserved_source_ids: string | null;
  revoked_at_ms: number | null;
  revoke_reason: string | null;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface CaptureProvisionBatchesTable {
  batch_id: string;
  machine_ids: string;
  applied_at_ms: number;
}

/** A derivation record (api-core §8.5), migration 0023. `subject` and `backend` hold JSON text. */
export interface DerivationsTable {
  derivation_id: string;
  profile: string;
  profile_version: number;
  subject_key: string;
  subject: string;
  source_fingerprint: string;
  /** `completed` | `failed`: records are terminal attempts, written once. */
  status: string;
  result_asset_id: string | null;
  reused_subject_asset: number;
  backend: string | null;
  error: string | null;
  created_at_ms: number;
}

/** The record a versioned derivation cache key currently answers with (migration 0023). */
export interface DerivationCacheTable {
  profile: string;
  profile_version: number;
  subject_key: string;
  source_fingerprint: string;
  derivation_id: string;
  updated_at_ms: number;
}
