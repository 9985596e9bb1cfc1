// Renders stored observation rows and audit records as their wire views.
import type { AuditRow, ObservationRow } from '../../store/repos/observations.ts';
import type { ObservationAuditRecord, ObservationView } from './schema.ts';

export function observationView(r: ObservationRow): ObservationView {
  return {
    observation_id: r.observation_id,
    source_id: r.source_id,
    kind: r.kind,
    sensitivity: r.sensitivity,
    retention_state: r.retention_state === 'purged' ? 'purged' : 'active',
    asset_id: r.asset_id,
    canonical_text_asset_id: r.canonical_text_asset_id,
    media_type: r.media_type,
    sha256: r.sha256,
    byte_length: r.byte_length,
    captured_at_ms: r.captured_at_ms,
    received_at_ms: r.received_at_ms,
    stream_id: r.stream_id,
    seq_no: r.seq_no,
    idempotency_key: r.idempotency_key,
    request_fingerprint: r.request_fingerprint,
    metadata: r.metadata ? (JSON.parse(r.metadata) as Record<string, unknown>) : {},
  };
}

export function auditView(r: AuditRow): ObservationAuditRecord {
  return {
    audit_id: r.id,
    at_ms: r.at_ms,
    event: r.event,
    source_id: r.source_id,
    machine_id: r.machine_id,
    observation_id: r.observation_id,
    detail: JSON.parse(r.detail) as Record<string, unknown>,
  };
}
