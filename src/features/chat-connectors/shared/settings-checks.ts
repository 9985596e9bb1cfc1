// Validation pieces the Slack and Telegram connector kinds share (api-collab §6.5, §6.6): the
// `connectors/invalid_connector` problem, the API base URL rule and zod issue rendering.
import type { z } from 'zod';
import { DaemonError } from '../../../errors/daemon-error.ts';

export const invalidConnector = (detail: string) =>
  new DaemonError(400, 'connectors', 'invalid_connector', detail);

/** Parses with a schema, turning issues into one 400 problem naming the fields. */
export function parseSettings<T>(schema: z.ZodType<T>, raw: unknown, kind: string): T {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => `${i.path.join('.') || 'settings'}: ${i.message}`).join('; ');
  throw invalidConnector(`invalid ${kind} connector: ${issues}`);
}

/**
 * An absolute http(s) URL without userinfo, query or fragment (tests point it at local servers);
 * returned without a trailing slash so method paths join with one `/`.
 */
export function checkApiBaseUrl(value: string, field = 'api_base_url'): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw invalidConnector(`${field} must be an absolute http(s) URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw invalidConnector(`${field} must use http or https`);
  if (u.username !== '' || u.password !== '') throw invalidConnector(`${field} must not carry userinfo`);
  if (value.includes('?') || u.search !== '') throw invalidConnector(`${field} must not carry a query`);
  if (value.includes('#') || u.hash !== '') throw invalidConnector(`${field} must not carry a fragment`);
  return u.href.replace(/\/+$/, '');
}
