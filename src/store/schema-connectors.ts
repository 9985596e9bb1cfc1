// Table types of connectors, ingress receipts, output deliveries, the Telegram poller and sidecar
// children (issue 16).
// Kept apart by domain so each file stays readable; schema-extensions.ts re-exports them.
import type { Generated } from 'kysely';

/** Output deliveries (migration 0026): one row per output and reply target. */
export interface DeliveriesTable {
  id: Generated<number>;
  delivery_id: string;
  run_id: string;
  session_id: string;
  plugin: string;
  address: string;
  target_digest: string;
  payload: string;
  status: string;
  attempts: number;
  next_attempt_at_ms: number;
  in_flight_since_ms: number | null;
  lease_owner: string | null;
  lease_expires_at_ms: number | null;
  last_error_code: string | null;
  last_error: string | null;
  needs_operator: number;
  progress: string | null;
  replayed_from_delivery_id: string | null;
  resolved_at_ms: number | null;
  resolution_reason: string | null;
  created_at_ms: number;
  updated_at_ms: number;
  delivered_at_ms: number | null;
  dead_lettered_at_ms: number | null;
}

/** Runtime-managed connectors (migration 0025): non-secret settings and secret locations, JSON. */
export interface ConnectorsTable {
  kind: string;
  name: string;
  settings: string;
  secrets: string;
  created_at_ms: number;
  updated_at_ms: number;
}

/** One inbound event's receipt: its hashed key, payload fingerprint and the run it became. */
export interface ConnectorReceiptsTable {
  kind: string;
  connector: string;
  key_sha256: string;
  fingerprint: string;
  session_id: string;
  run_id: string;
  created_at_ms: number;
}

/** A binding key bound (for good) to a session. */
export interface ConnectorBindingsTable {
  binding_key: string;
  session_id: string;
  created_at_ms: number;
}

/** One external connector's child process: owner replica (lease), state and counters. */
export interface ExternalConnectorChildrenTable {
  connector: string;
  owner_replica_id: string | null;
  owner_expires_at_ms: number;
  host: string | null;
  state: string;
  pid: number | null;
  launch_id: string | null;
  instance_id: string | null;
  grant_id: string | null;
  launches: number;
  restarts: number;
  last_error: string | null;
  started_at_ms: number | null;
  ready_at_ms: number | null;
  updated_at_ms: number;
}

/** Assets an in-flight external delivery may serve to its sidecar. */
export interface ExternalDeliveryAssetsTable {
  connector: string;
  delivery_id: string;
  asset_id: string;
  created_at_ms: number;
  settled_at_ms: number | null;
}

/** The Telegram poller's cursor and lease (migration 0027), one row per polling connector. */
export interface TelegramPollingTable {
  connector: string;
  next_offset: number;
  lease_owner: string | null;
  lease_expires_at_ms: number | null;
  updated_at_ms: number;
}
