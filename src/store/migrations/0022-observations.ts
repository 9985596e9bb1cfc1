// Observations and capture (api-core §8.1–8.4, concepts §4.14): observation sources (their upload
// tokens only as digests), observations (bytes live in the assets store, referenced from here),
// the observation audit log, capture agents and the provisioning batches already applied.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { ddlOf } from '../dialect.ts';

export const m0022observations: Migration = {
  async up(db: Kysely<any>) {
    const ddl = ddlOf(db);
    await db.schema
      .createTable('observation_sources')
      .addColumn('source_id', 'text', (c) => c.primaryKey())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('sensitivity', 'text', (c) => c.notNull())
      .addColumn('retention_seconds', 'bigint', (c) => c.notNull())
      .addColumn('max_active_observations', 'bigint', (c) => c.notNull())
      .addColumn('max_active_bytes', 'bigint', (c) => c.notNull())
      .addColumn('ingest_rate_limit_window_ms', 'bigint', (c) => c.notNull())
      .addColumn('ingest_rate_limit_burst', 'bigint', (c) => c.notNull())
      .addColumn('purge_raw_on_retention', 'integer', (c) => c.notNull())
      .addColumn('allow_materialization', 'integer', (c) => c.notNull())
      .addColumn('allow_output_delivery', 'integer', (c) => c.notNull())
      /** Digest of the current upload token (null once revoked); never the token. */
      .addColumn('token_digest', 'text')
      .addColumn('upload_token_version', 'bigint', (c) => c.notNull())
      .addColumn('token_issued_at_ms', 'bigint')
      /** Capture leases expire; generic source tokens do not (null). */
      .addColumn('token_expires_at_ms', 'bigint')
      .addColumn('previous_token_digest', 'text')
      .addColumn('previous_token_valid_until_ms', 'bigint')
      .addColumn('token_revoked_at_ms', 'bigint')
      /** The capture agent that owns the source (its tokens are leases), or null. */
      .addColumn('capture_machine_id', 'text')
      .addColumn('disabled_at_ms', 'bigint')
      .addColumn('disabled_reason', 'text')
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('observations')
      .addColumn('observation_id', 'text', (c) => c.primaryKey())
      .addColumn('source_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('sensitivity', 'text', (c) => c.notNull())
      .addColumn('retention_state', 'text', (c) => c.notNull())
      .addColumn('asset_id', 'text', (c) => c.notNull())
      .addColumn('canonical_text_asset_id', 'text')
      .addColumn('media_type', 'text', (c) => c.notNull())
      .addColumn('sha256', 'text', (c) => c.notNull())
      .addColumn('byte_length', 'bigint', (c) => c.notNull())
      .addColumn('captured_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('received_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('stream_id', 'text')
      .addColumn('seq_no', 'bigint')
      .addColumn('idempotency_key', 'text', (c) => c.notNull())
      .addColumn('request_fingerprint', 'text', (c) => c.notNull())
      .addColumn('metadata', 'text')
      /** `metadata.capture_group_id` when it is a string: the `observation_group` selection. */
      .addColumn('capture_group_id', 'text')
      .addColumn('purged_at_ms', 'bigint')
      .addColumn('purge_reason', 'text')
      .execute();
    await db.schema
      .createIndex('observations_idempotency')
      .on('observations')
      .columns(['source_id', 'idempotency_key'])
      .unique()
      .execute();
    await db.schema
      .createIndex('observations_source_received')
      .on('observations')
      .columns(['source_id', 'received_at_ms'])
      .execute();
    await db.schema
      .createIndex('observations_state_received')
      .on('observations')
      .columns(['retention_state', 'received_at_ms'])
      .execute();
    await db.schema
      .createIndex('observations_group')
      .on('observations')
      .columns(['capture_group_id', 'received_at_ms'])
      .execute();

    await ddl
      .addAutoIncrementId(db.schema.createTable('observation_audit'), 'id')
      .addColumn('at_ms', 'bigint', (c) => c.notNull())
      .addColumn('event', 'text', (c) => c.notNull())
      .addColumn('source_id', 'text')
      .addColumn('machine_id', 'text')
      .addColumn('observation_id', 'text')
      /** Sanitized detail (JSON object): never tokens, bytes, base64 or literal idempotency keys. */
      .addColumn('detail', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('observation_audit_source')
      .on('observation_audit')
      .columns(['source_id', 'id'])
      .execute();
    await db.schema
      .createIndex('observation_audit_event')
      .on('observation_audit')
      .columns(['event', 'id'])
      .execute();

    await db.schema
      .createTable('capture_agents')
      .addColumn('machine_id', 'text', (c) => c.primaryKey())
      .addColumn('batch_id', 'text', (c) => c.notNull())
      .addColumn('os_profile', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      /** Every source the agent ever owned (JSON array); revocation disables them all. */
      .addColumn('source_ids', 'text', (c) => c.notNull())
      /** Sanitized lease views (JSON array), the current and the superseded ones. */
      .addColumn('leases', 'text', (c) => c.notNull())
      .addColumn('heartbeat_token_digest', 'text')
      .addColumn('heartbeat_token_version', 'bigint', (c) => c.notNull())
      .addColumn('heartbeat_interval_ms', 'bigint', (c) => c.notNull())
      .addColumn('heartbeat_grace_ms', 'bigint', (c) => c.notNull())
      .addColumn('last_heartbeat_at_ms', 'bigint')
      .addColumn('heartbeat_deadline_ms', 'bigint', (c) => c.notNull())
      .addColumn('heartbeat_state', 'text', (c) => c.notNull())
      .addColumn('heartbeat_missing_since_ms', 'bigint')
      .addColumn('last_heartbeat_agent_version', 'text')
      .addColumn('last_heartbeat_observed_source_ids', 'text')
      .addColumn('last_heartbeat_unobserved_source_ids', 'text')
      .addColumn('revoked_at_ms', 'bigint')
      .addColumn('revoke_reason', 'text')
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('capture_provision_batches')
      .addColumn('batch_id', 'text', (c) => c.primaryKey())
      .addColumn('machine_ids', 'text', (c) => c.notNull())
      .addColumn('applied_at_ms', 'bigint', (c) => c.notNull())
      .execute();
  },
};
