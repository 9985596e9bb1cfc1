// Bearer tokens of observation sources and capture agents: stored only as digests, compared in
// constant time, generated from the CSPRNG; free-text reasons are scrubbed before they are stored.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { DaemonError } from '../../errors/daemon-error.ts';

/** Domain-separated sha256: a digest of an upload token is not a digest of the same text elsewhere. */
export const tokenDigest = (token: string): string =>
  createHash('sha256').update(`kheish-observation-token-v1\n${token}`).digest('hex');

export function digestMatches(presented: string, stored: string | null | undefined): boolean {
  if (!stored) return false;
  const a = Buffer.from(tokenDigest(presented), 'hex');
  const b = Buffer.from(stored, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

export const newToken = (prefix: string): string => `${prefix}_${randomBytes(32).toString('base64url')}`;

/** The bearer value of an Authorization header, or null. */
export function bearerOf(header: string | string[] | undefined): string | null {
  const h = Array.isArray(header) ? header[0] : header;
  const m = h === undefined ? null : /^bearer\s+(\S+)\s*$/i.exec(h.trim());
  return m?.[1] ?? null;
}

/** The one answer to a missing, wrong, expired or revoked upload token: nothing about which. */
export const uploadUnauthorized = () =>
  new DaemonError(
    401,
    'observation_ingress',
    'invalid_upload_token',
    'send Authorization: Bearer <upload_token> of this observation source (the control-plane token is not accepted here)',
    { 'www-authenticate': 'Bearer realm="kheish-observation-ingress"' },
  );

export const heartbeatUnauthorized = () =>
  new DaemonError(
    401,
    'capture',
    'invalid_heartbeat_token',
    'send Authorization: Bearer <heartbeat_token> of this capture agent (upload and control-plane tokens are not accepted here)',
    { 'www-authenticate': 'Bearer realm="kheish-capture-heartbeat"' },
  );

const SECRET_LOOKING = /(bearer\s|token|secret|password|passwd|api[_-]?key|sk-|[A-Za-z0-9+/_=-]{24,})/i;

/** Operator reasons are kept unless they look like they carry a secret (then a fixed marker). */
export function sanitizeReason(reason: string | undefined, fallback: string): string {
  const r = reason?.trim();
  if (!r) return fallback;
  if (SECRET_LOOKING.test(r)) return 'operator_reason_redacted';
  return r.slice(0, 256);
}
