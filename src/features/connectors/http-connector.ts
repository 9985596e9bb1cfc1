// The HTTP connector's rules (api-collab §6.4): which settings are valid together, and what an
// HTTP reply route may look like (a raw URL or `{url, headers?, allow_private_network?}` whose
// headers are valid and none the daemon owns or that would forge identity).
import { checkReplyHeaders } from '../../config/http-reply-headers.ts';
import { DaemonError } from '../../errors/daemon-error.ts';
import type { ConnectorKindAdapter } from './port.ts';
import { HttpConnectorSettings } from './schema.ts';

export const DEFAULT_SIGNATURE_MAX_AGE_SECS = 300;

const invalid = (detail: string) => new DaemonError(400, 'connectors', 'invalid_connector', detail);

/** Throws a 400 for an `http` ReplyHandle address the daemon would refuse to send to. */
export function validateHttpReplyAddress(address: string, where = 'reply target'): void {
  let url: string;
  let headers: unknown;
  const trimmed = address.trim();
  if (trimmed.startsWith('{')) {
    let route: Record<string, unknown>;
    try {
      route = JSON.parse(trimmed) as Record<string, unknown>;
    } catch {
      throw invalid(`${where}: the address is neither a URL nor a JSON HttpReplyRoute`);
    }
    const extra = Object.keys(route).filter(
      (k) => !['url', 'headers', 'allow_private_network', 'receiver_deduplicates'].includes(k),
    );
    if (extra.length) throw invalid(`${where}: unknown HttpReplyRoute field(s) ${extra.join(', ')}`);
    if (typeof route.url !== 'string') throw invalid(`${where}: HttpReplyRoute.url must be a string`);
    for (const flag of ['allow_private_network', 'receiver_deduplicates'])
      if (route[flag] !== undefined && typeof route[flag] !== 'boolean')
        throw invalid(`${where}: ${flag} must be true or false`);
    url = route.url;
    headers = route.headers;
  } else url = trimmed;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid(`${where}: ${JSON.stringify(url.slice(0, 80))} is not an absolute URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw invalid(`${where}: only http:// and https:// reply URLs are supported`);
  if (parsed.username || parsed.password) throw invalid(`${where}: reply URLs must not carry credentials`);
  if (headers === undefined || headers === null) return;
  checkReplyHeaders(headers, (detail) => invalid(`${where}: ${detail}`));
}

export const httpConnectorAdapter: ConnectorKindAdapter = {
  kind: 'http',
  secretFields: ['bearer_token', 'hmac_secret'],
  async validate(settings, secrets) {
    const p = HttpConnectorSettings.safeParse(settings);
    if (!p.success)
      throw invalid(p.error.issues.map((i) => `${i.path.join('.') || 'settings'}: ${i.message}`).join('; '));
    const s = p.data;
    if (
      s.signature_max_age_secs !== undefined &&
      (s.signature_max_age_secs < 1 || s.signature_max_age_secs > 3600)
    )
      throw invalid('signature_max_age_secs must be between 1 and 3600');
    if (s.require_hmac_signature === true) {
      if (!secrets.has('hmac_secret')) throw invalid('require_hmac_signature=true needs an hmac_secret');
      if (s.require_idempotency_key === false)
        throw invalid(
          'require_hmac_signature=true needs require_idempotency_key=true (signed requests are replayable)',
        );
    }
    const hmacAuth = s.require_hmac_signature === true && secrets.has('hmac_secret');
    if (!secrets.has('bearer_token') && !hmacAuth && s.allow_unauthenticated_ingress !== true)
      throw invalid(
        'an HTTP connector needs a bearer_token, or require_hmac_signature=true with an hmac_secret, or allow_unauthenticated_ingress=true',
      );
    for (const [i, t] of (s.default_reply_targets ?? []).entries())
      if (t.plugin === 'http') validateHttpReplyAddress(t.address, `default_reply_targets[${i}]`);
  },
};
