// Forced refresh of an MCP OAuth account (ops-runtime §5.5): a refresh_token grant at the stored
// token endpoint, refresh-token rotation honoured, no scope escalation, the new tokens written
// back through the secrets service (so leases on the old tokens end). Tokens never appear in an
// error: only the server's OAuth error code does.
import { DaemonError } from '../../errors/daemon-error.ts';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

export const refreshFailed = (slotId: string, why: string) =>
  new DaemonError(502, 'runtime', 'account_refresh_failed', `refresh of account ${slotId} failed: ${why}`);

const unavailable = (slotId: string, why: string) =>
  new DaemonError(
    409,
    'runtime',
    'account_refresh_unavailable',
    `account ${slotId} cannot be refreshed: ${why}`,
  );

const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);

/** The state to store after a successful refresh (the caller writes it). */
export async function refreshedState(
  slotId: string,
  state: Record<string, unknown>,
  signal: AbortSignal,
): Promise<Record<string, unknown>> {
  const endpoint = str(state.token_endpoint);
  const refreshToken = str(state.refresh_token);
  if (state.kind !== 'mcp_oauth')
    throw unavailable(slotId, 'only MCP OAuth accounts are refreshed by the daemon');
  if (!endpoint || !refreshToken) throw unavailable(slotId, 'it holds no refresh_token and token_endpoint');
  const url = new URL(endpoint);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname)))
    throw unavailable(slotId, 'the token endpoint requires https resource URLs (http only on loopback)');
  const approved = Array.isArray(state.scopes) ? (state.scopes as string[]) : [];
  const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken });
  if (str(state.client_id)) form.set('client_id', state.client_id as string);
  if (str(state.client_secret)) form.set('client_secret', state.client_secret as string);
  if (str(state.resource)) form.set('resource', state.resource as string);
  if (approved.length) form.set('scope', approved.join(' '));
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form,
      signal: AbortSignal.any([signal, AbortSignal.timeout(15_000)]),
    });
  } catch (err) {
    throw refreshFailed(slotId, `the token endpoint did not answer (${(err as Error).name})`);
  }
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok)
    throw refreshFailed(slotId, `the token endpoint answered ${res.status} ${str(body.error) ?? ''}`.trim());
  const access = str(body.access_token);
  if (!access) throw refreshFailed(slotId, 'the token endpoint returned no access_token');
  const granted = str(body.scope)?.split(' ').filter(Boolean) ?? approved;
  const added = granted.filter((s) => !approved.includes(s));
  if (approved.length && added.length)
    throw refreshFailed(slotId, `attempted to add unapproved scope ${added.join(', ')}`);
  const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : undefined;
  const now = Date.now();
  return {
    ...state,
    access_token: access,
    // Rotation: a new refresh token replaces the old one; none returned keeps the old one.
    refresh_token: str(body.refresh_token) ?? refreshToken,
    expires_at_ms: expiresIn !== undefined ? now + expiresIn * 1000 : state.expires_at_ms,
    scopes: approved.length ? approved : granted,
    last_refresh_at_ms: now,
    last_refresh_outcome: 'ok',
  };
}
