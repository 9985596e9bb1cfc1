// The headers an HTTP reply route may carry (api-collab §6.4, #54), one rule for everywhere a
// route is accepted: connector defaults and ingress payloads (connectors) and session or run
// reply targets (deliveries). The daemon owns some (Content-Type, Idempotency-Key, hop-by-hop),
// others carry credentials or forge identity; a route that names one is refused, not rewritten.

const BLOCKED = new Set([
  'authorization',
  'connection',
  'content-length',
  'content-type',
  'cookie',
  'forwarded',
  'host',
  'idempotency-key',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'x-api-key',
]);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * The route's headers, checked; `fail(detail)` makes the caller's own 400 problem. Names must be
 * HTTP tokens given once, values printable strings without line breaks.
 */
export function checkReplyHeaders(headers: unknown, fail: (detail: string) => Error): Record<string, string> {
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers))
    throw fail('headers must be an object of header names to string values');
  const seen = new Set<string>();
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
    const lower = name.toLowerCase();
    if (!TOKEN.test(name)) throw fail(`header name ${JSON.stringify(name)} is not a valid HTTP token`);
    if (typeof value !== 'string' || !FIELD_VALUE.test(value))
      throw fail(`header ${name} needs a string value without control characters or line breaks`);
    if (BLOCKED.has(lower) || lower.startsWith('x-forwarded-'))
      throw fail(
        `header ${name} may not be set on a reply route: the daemon owns it or it carries credentials`,
      );
    if (seen.has(lower)) throw fail(`header ${name} is given twice`);
    seen.add(lower);
    out[name] = value;
  }
  return out;
}
