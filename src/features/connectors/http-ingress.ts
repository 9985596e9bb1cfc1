// POST /v1/connectors/http/{name} (api-collab §6.4): connector auth (bearer, HMAC over the raw
// bytes), payload rules (idempotency key, reserved metadata, what unauthenticated callers may not
// choose, payload reply targets), then the shared pipeline. Never the control-plane token.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { monotonicFactory } from 'ulid';
import { DaemonError } from '../../errors/daemon-error.ts';
import type { ReplyHandle } from '../deliveries/port.ts';
import { DEFAULT_SIGNATURE_MAX_AGE_SECS, validateHttpReplyAddress } from './http-connector.ts';
import { payloadFingerprint, sha256 } from './ingest.ts';
import type { IngressResult } from './port.ts';
import type { Entry } from './registry.ts';
import { type HttpConnectorSettings, HttpIngressPayload } from './schema.ts';

const ulid = monotonicFactory();

export interface HttpIngressRequest {
  /** Path and query exactly as sent (percent-encoding preserved): part of the signed string. */
  url: string;
  body: Buffer;
  headers: Record<string, string | string[] | undefined>;
  /** Node's raw header list (name, value, name, value…): duplicates are visible only here. */
  rawHeaders: string[];
}

export interface HttpIngressDeps {
  entry(name: string): Promise<Entry | null>;
  secret(name: string, field: string): Promise<string | null>;
  ingest: (event: import('./port.ts').IngressEvent) => Promise<IngressResult>;
  /** Structured reply-target requests → handles, when the deliveries feature offers it. */
  normalizeTargets: ((requests: unknown[]) => Promise<ReplyHandle[]>) | null;
  nowMs(): number;
}

const unauthorized = (code: string, detail: string) =>
  new DaemonError(401, 'connectors', code, detail, { 'www-authenticate': 'Bearer realm="kheish-connector"' });
const bad = (code: string, detail: string) => new DaemonError(400, 'connectors', code, detail);

/** The metadata keys the daemon owns on connector runs (§6.4). */
export const isReservedMetadataKey = (k: string) =>
  k.startsWith('connector_ingress_') || k.startsWith('http_ingress_');

function headerCount(raw: string[], name: string): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) n++;
  return n;
}

function safeEqualText(a: string, b: string): boolean {
  // Digests first: equal lengths for timingSafeEqual, and no early exit on the length.
  return timingSafeEqual(Buffer.from(sha256(a), 'hex'), Buffer.from(sha256(b), 'hex'));
}

/** `v1=<hex>` over `v1:POST:<path-and-query>:<timestamp>:<raw body>` (the §6.4 test vector). */
export function hmacSignature(secret: string, pathAndQuery: string, timestamp: string, body: Buffer): string {
  return createHmac('sha256', secret)
    .update(`v1:POST:${pathAndQuery}:${timestamp}:`)
    .update(body)
    .digest('hex');
}

export async function handleHttpIngress(
  deps: HttpIngressDeps,
  name: string,
  req: HttpIngressRequest,
): Promise<{ status: 'accepted' | 'duplicate'; session_id: string; run_id: string }> {
  const entry = await deps.entry(name);
  if (!entry)
    throw new DaemonError(404, 'connectors', 'connector_not_found', `connector http/${name} does not exist`);
  const s = entry.settings as HttpConnectorSettings;
  const bearerConfigured = entry.secrets.bearer_token !== undefined;
  const requireHmac = s.require_hmac_signature === true;

  if (bearerConfigured) {
    const expected = await deps.secret(name, 'bearer_token');
    const header = req.headers.authorization;
    const m = typeof header === 'string' ? /^bearer\s+(.+)$/i.exec(header.trim()) : null;
    // An unresolvable secret fails closed, with the same answer as a wrong token.
    if (!m || expected === null || !safeEqualText(m[1]!.trim(), expected))
      throw unauthorized('ingress_unauthorized', 'the connector bearer token is missing or wrong');
  }
  if (requireHmac) await verifyHmac(deps, name, s, req);
  const authenticated = bearerConfigured || requireHmac;
  if (!authenticated && s.allow_unauthenticated_ingress !== true)
    throw unauthorized('ingress_unauthorized', 'this connector accepts no unauthenticated requests');

  let raw: unknown;
  try {
    raw = req.body.length === 0 ? undefined : JSON.parse(req.body.toString('utf8'));
  } catch {
    throw bad('invalid_ingress_payload', 'the request body is not valid JSON');
  }
  const parsed = HttpIngressPayload.safeParse(raw);
  if (!parsed.success)
    throw bad(
      'invalid_ingress_payload',
      parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
    );
  const p = parsed.data;

  const headerKey = req.headers['idempotency-key'];
  if (Array.isArray(headerKey)) throw bad('invalid_idempotency_key', 'one Idempotency-Key header at most');
  if (
    headerKey !== undefined &&
    p.idempotency_key !== undefined &&
    headerKey.trim() !== p.idempotency_key.trim()
  )
    throw bad('invalid_idempotency_key', 'the Idempotency-Key header and idempotency_key differ');
  const key = (p.idempotency_key ?? headerKey)?.trim();
  if (key === '') throw bad('invalid_idempotency_key', 'the idempotency key is empty');
  if (key === undefined && s.require_idempotency_key !== false)
    throw bad('idempotency_key_required', 'this connector requires an idempotency_key on every event');

  const reserved = Object.keys(p.metadata ?? {}).filter(isReservedMetadataKey);
  if (reserved.length)
    throw bad('reserved_metadata_key', `metadata keys ${reserved.join(', ')} are owned by the daemon`);

  if (!authenticated) {
    const refused: string[] = [];
    if (p.session_id !== undefined) refused.push('session_id');
    if (p.binding_keys !== undefined) refused.push('binding_keys');
    if (p.attachments?.length) refused.push('attachments');
    if (p.input_items?.some((i) => i.type !== 'text')) refused.push('asset or board input_items');
    if (refused.length)
      throw bad(
        'unauthenticated_ingress_restricted',
        `unauthenticated ingress cannot choose ${refused.join(', ')}; configure a bearer token or HMAC`,
      );
  }

  const targets =
    authenticated && s.allow_payload_reply_targets === true ? await payloadTargets(deps, p) : undefined;
  const { idempotency_key: _k, ...fingerprinted } = p;
  const fingerprint = payloadFingerprint(fingerprinted);
  const metadata: Record<string, unknown> = { ...(p.metadata ?? {}) };
  if (key !== undefined) {
    const hashed = sha256(key);
    metadata.http_ingress_key = hashed;
    metadata.http_ingress_key_sha256 = hashed;
  }
  metadata.http_ingress_fingerprint = fingerprint;

  const result = await deps.ingest({
    kind: 'http',
    connector: name,
    event_key: key ?? `generated:${ulid()}`,
    fingerprint,
    authenticated,
    session: {
      fixed_session_id: s.fixed_session_id ?? null,
      session_id: p.session_id ?? null,
      binding_keys: [...(p.binding_keys ?? []), ...(s.default_binding_keys ?? [])],
    },
    actor_id: p.actor_id ?? s.actor_id ?? `http:${name}`,
    input: { content: p.content, input_items: p.input_items, attachments: p.attachments },
    metadata,
    ...(targets?.length ? { reply_targets: targets } : {}),
  });
  if (result.status === 'rate_limited') {
    const secs = Math.max(1, Math.ceil(result.retry_after_ms / 1000));
    throw new DaemonError(
      429,
      'connectors',
      'rate_limited',
      `connector http/${name} is over its ingress_events_per_second; retry in ${secs} s`,
      { 'retry-after': String(secs) },
    );
  }
  return result;
}

async function verifyHmac(
  deps: HttpIngressDeps,
  name: string,
  s: HttpConnectorSettings,
  req: HttpIngressRequest,
) {
  if (
    headerCount(req.rawHeaders, 'x-kheish-timestamp') > 1 ||
    headerCount(req.rawHeaders, 'x-kheish-signature') > 1
  )
    throw unauthorized('invalid_signature', 'duplicate X-Kheish-Timestamp or X-Kheish-Signature headers');
  const ts = req.headers['x-kheish-timestamp'];
  const sig = req.headers['x-kheish-signature'];
  if (typeof ts !== 'string' || typeof sig !== 'string')
    throw unauthorized('invalid_signature', 'X-Kheish-Timestamp and X-Kheish-Signature are required');
  if (!/^\d{1,12}$/.test(ts))
    throw unauthorized('invalid_signature', 'X-Kheish-Timestamp must be Unix seconds');
  const m = /^v1=([0-9a-fA-F]{64})$/.exec(sig.trim());
  if (!m) throw unauthorized('invalid_signature', 'X-Kheish-Signature must be v1=<64 hex characters>');
  const maxAge = s.signature_max_age_secs ?? DEFAULT_SIGNATURE_MAX_AGE_SECS;
  // Future timestamps are held to the same window (decision 272): a clock far ahead is a replay risk too.
  if (Math.abs(deps.nowMs() / 1000 - Number(ts)) > maxAge)
    throw unauthorized('signature_expired', `the signature timestamp is outside the ${maxAge} s window`);
  const secret = await deps.secret(name, 'hmac_secret');
  const expected = secret === null ? null : hmacSignature(secret, req.url, ts, req.body);
  if (
    expected === null ||
    !timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(m[1]!.toLowerCase(), 'hex'))
  )
    throw unauthorized('invalid_signature', 'the HMAC signature does not match');
}

async function payloadTargets(deps: HttpIngressDeps, p: HttpIngressPayload): Promise<ReplyHandle[]> {
  const requests: unknown[] = [...(p.reply_targets ?? [])];
  if ((p.reply_plugin === undefined) !== (p.reply_address === undefined))
    throw bad('invalid_reply_target', 'reply_plugin and reply_address go together');
  if (p.reply_plugin !== undefined) requests.push({ plugin: p.reply_plugin, address: p.reply_address });
  if (requests.length === 0) return [];
  const handles = deps.normalizeTargets
    ? await deps.normalizeTargets(requests)
    : requests.map((r, i) => {
        const o = r as Record<string, unknown>;
        if (!o || typeof o.plugin !== 'string' || typeof o.address !== 'string')
          throw bad('invalid_reply_target', `reply_targets[${i}] must be {plugin, address}`);
        return { plugin: o.plugin, address: o.address };
      });
  for (const [i, h] of handles.entries())
    if (h.plugin === 'http') validateHttpReplyAddress(h.address, `reply_targets[${i}]`);
  return handles;
}
