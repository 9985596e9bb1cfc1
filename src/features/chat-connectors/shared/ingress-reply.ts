// What the Slack and Telegram ingress routes answer: each platform's own acknowledgement shape on
// success (api-core §1.3: connector acknowledgements keep their protocol JSON), problems otherwise.
import { DaemonError } from '../../../errors/daemon-error.ts';
import type { ConnectorKind, ConnectorRecord, ConnectorsPort, IngressResult } from '../../connectors/port.ts';

export interface ChatIngressReply {
  status: number;
  body: Record<string, unknown>;
}

export const connectorNotFound = (kind: string, name: string) =>
  new DaemonError(404, 'connectors', 'connector_not_found', `connector ${kind}/${name} does not exist`);

export const ingressUnauthorized = (code: string, detail: string) =>
  new DaemonError(401, 'connector_ingress', code, detail);

/** 429 with Retry-After in whole seconds (at least 1) and the exact wait in milliseconds. */
export class IngressRateLimited extends DaemonError {
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number) {
    super(429, 'connector_ingress', 'rate_limited', 'too many events for this connector; retry later', {
      'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))),
    });
    this.retryAfterMs = retryAfterMs;
  }
}

export async function requireConnector(
  connectors: ConnectorsPort,
  kind: ConnectorKind,
  name: string,
): Promise<ConnectorRecord> {
  const rec = await connectors.get(kind, name);
  if (!rec) throw connectorNotFound(kind, name);
  return rec;
}

/**
 * A configured secret that does not resolve (slot deleted, env unset) refuses ingress: falling
 * back to "unauthenticated" would open a connector the operator meant to protect.
 */
export async function configuredSecret(
  connectors: ConnectorsPort,
  rec: ConnectorRecord,
  field: string,
): Promise<string | null> {
  if (!rec.secret_fields.includes(field)) return null;
  const v = await connectors.secret(rec.kind, rec.name, field);
  if (v === null)
    throw new DaemonError(
      503,
      'connector_ingress',
      'connector_secret_unavailable',
      `the ${field} of connector ${rec.kind}/${rec.name} is configured but cannot be read`,
    );
  return v;
}

export function renderResult(r: IngressResult): ChatIngressReply {
  if (r.status === 'rate_limited') throw new IngressRateLimited(r.retry_after_ms);
  return { status: 200, body: { ok: true, status: r.status, session_id: r.session_id, run_id: r.run_id } };
}
