// Reading one Slack Events API request body (api-collab §6.5): the URL verification handshake,
// `app_rate_limited` notices and `event_callback` envelopes. Pure: no I/O, so every rule
// (allowlists over `authorizations[]`, bot loops, thread → session) is tested on its own.
import { DaemonError } from '../../../errors/daemon-error.ts';
import { fingerprintOf } from '../shared/fingerprint.ts';
import type { SlackConfig } from './settings.ts';

export interface SlackFile {
  id: string;
  name: string;
  mimetype: string | null;
  url: string | null;
  size: number | null;
}

/** One user message that should become a run. */
export interface SlackMessage {
  enterprise_id: string | null;
  team_id: string | null;
  api_app_id: string | null;
  channel: string;
  user: string | null;
  text: string;
  ts: string;
  /** The thread's root ts: the message's own ts when it starts a thread. */
  root_ts: string;
  files: SlackFile[];
  /** The idempotency key: the event id (or the message ts) scoped by enterprise and team. */
  event_key: string;
  fingerprint: string;
}

export type SlackEnvelope =
  | { kind: 'challenge'; challenge: string }
  | { kind: 'app_rate_limited' }
  | { kind: 'ignored'; reason: string }
  | { kind: 'message'; message: SlackMessage };

export const badSlackPayload = (detail: string) =>
  new DaemonError(400, 'connector_ingress', 'invalid_slack_payload', detail);

const notAllowed = (detail: string) => new DaemonError(403, 'connector_ingress', 'slack_not_allowed', detail);

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** Message subtypes that carry a person's words; edits, deletions and joins do not start runs. */
const MESSAGE_SUBTYPES = new Set([undefined, 'file_share', 'thread_broadcast']);

/** Parses and checks a body; throws 400 for a malformed one and 403 outside the allowlists. */
export function readSlackEnvelope(body: unknown, config: SlackConfig): SlackEnvelope {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw badSlackPayload('a Slack request body is a JSON object');
  const b = body as Record<string, any>;
  const type = b.type;
  if (typeof type !== 'string' || type === '') throw badSlackPayload('a Slack request body has a type');
  if (type === 'url_verification') {
    if (typeof b.challenge !== 'string' || b.challenge === '')
      throw badSlackPayload('url_verification carries a challenge');
    return { kind: 'challenge', challenge: b.challenge };
  }
  if (type === 'app_rate_limited') {
    checkAllowed(config, b, null);
    return { kind: 'app_rate_limited' };
  }
  if (type !== 'event_callback') return { kind: 'ignored', reason: 'unsupported_type' };
  const event = b.event;
  if (typeof event !== 'object' || event === null || Array.isArray(event))
    throw badSlackPayload('an event_callback carries an event object');
  const channel = str(event.channel) ?? str(event.item?.channel);
  checkAllowed(config, b, channel);
  if (isBotAuthored(event, b)) return { kind: 'ignored', reason: 'bot_message' };
  if (event.type !== 'message' && event.type !== 'app_mention')
    return { kind: 'ignored', reason: 'unsupported_event' };
  if (!MESSAGE_SUBTYPES.has(event.subtype)) return { kind: 'ignored', reason: 'unsupported_subtype' };
  if (!channel) throw badSlackPayload('a message event names its channel');
  const ts = str(event.ts);
  if (!ts) throw badSlackPayload('a message event carries its ts');
  const team = str(b.context_team_id) ?? str(b.team_id) ?? str(event.team);
  const enterprise = str(b.context_enterprise_id) ?? str(b.enterprise_id) ?? str(event.enterprise);
  const scope = `${enterprise ?? ''}:${team ?? ''}`;
  const eventId = str(b.event_id);
  const files = Array.isArray(event.files)
    ? event.files.map(readFile).filter((f: SlackFile | null) => f)
    : [];
  const text = typeof event.text === 'string' ? event.text : '';
  if (text.trim() === '' && files.length === 0) return { kind: 'ignored', reason: 'no_content' };
  return {
    kind: 'message',
    message: {
      enterprise_id: enterprise,
      team_id: team,
      api_app_id: str(b.api_app_id),
      channel,
      user: str(event.user),
      text,
      ts,
      root_ts: str(event.thread_ts) ?? ts,
      files,
      event_key: eventId ? `slack:event:${scope}:${eventId}` : `slack:message:${scope}:${channel}:${ts}`,
      fingerprint: fingerprintOf({ event_id: eventId, api_app_id: str(b.api_app_id), scope, event }),
    },
  };
}

function readFile(f: any): SlackFile | null {
  if (typeof f !== 'object' || f === null || typeof f.id !== 'string') return null;
  // Deleted files and files over the workspace's plan limit have no bytes to fetch.
  if (f.mode === 'tombstone' || f.mode === 'hidden_by_limit') return null;
  return {
    id: f.id,
    name: str(f.name) ?? str(f.title) ?? f.id,
    mimetype: str(f.mimetype),
    url: str(f.url_private_download) ?? str(f.url_private),
    size: typeof f.size === 'number' ? f.size : null,
  };
}

/** Bot-authored events (our own replies among them) never start runs: no reply loops. */
function isBotAuthored(event: any, b: any): boolean {
  if (str(event.bot_id) || event.subtype === 'bot_message' || event.bot_profile) return true;
  const user = str(event.user);
  if (!user || !Array.isArray(b.authorizations)) return false;
  return b.authorizations.some((a: any) => a?.is_bot === true && a.user_id === user);
}

/**
 * App, enterprise, team and channel allowlists, over the envelope and every `authorizations[]`
 * entry (a shared channel event names several workspaces; each must be allowed).
 */
function checkAllowed(config: SlackConfig, b: any, channel: string | null): void {
  const check = (list: string[], value: string | null, what: string) => {
    if (list.length === 0) return;
    if (value === null || !list.includes(value))
      throw notAllowed(`this ${what} is not allowed by the connector`);
  };
  check(config.allowedAppIds, str(b.api_app_id), 'Slack app');
  const enterprises = new Set<string | null>();
  const teams = new Set<string | null>();
  for (const v of [b.enterprise_id, b.context_enterprise_id]) if (str(v)) enterprises.add(str(v));
  for (const v of [b.team_id, b.context_team_id]) if (str(v)) teams.add(str(v));
  if (Array.isArray(b.authorizations))
    for (const a of b.authorizations) {
      if (typeof a !== 'object' || a === null) continue;
      if (str(a.enterprise_id)) enterprises.add(str(a.enterprise_id));
      if (str(a.team_id)) teams.add(str(a.team_id));
    }
  if (config.allowedEnterpriseIds.length > 0) {
    if (enterprises.size === 0)
      throw notAllowed('an event without an enterprise is not allowed by the connector');
    for (const e of enterprises) check(config.allowedEnterpriseIds, e, 'Slack enterprise');
  }
  if (config.allowedTeamIds.length > 0) {
    if (teams.size === 0) throw notAllowed('an event without a team is not allowed by the connector');
    for (const t of teams) check(config.allowedTeamIds, t, 'Slack team');
  }
  if (channel !== null || b.type === 'event_callback')
    check(config.allowedChannelIds, channel, 'Slack channel');
}
