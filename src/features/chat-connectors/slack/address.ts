// The `slack` reply-target address (`SlackReplyRoute`): canonical JSON
// `{"channel_id", "connector", "enterprise_id"?, "team_id"?, "thread_ts"?}`. Structured requests
// (`{type:"slack", connector, channel_id | channel, thread_ts?, team_id?, enterprise_id?}`) become
// that address; the connector's allowlists are checked when a target is stored and when it is sent.
import { canonicalJson } from '../../../engine/output-contract.ts';
import { DaemonError } from '../../../errors/daemon-error.ts';
import type { ReplyHandle } from '../../deliveries/port.ts';
import type { SlackConfig } from './settings.ts';

export interface SlackRoute {
  connector: string;
  channel_id: string;
  enterprise_id?: string;
  team_id?: string;
  thread_ts?: string;
}

export const invalidSlackTarget = (detail: string) =>
  new DaemonError(400, 'deliveries', 'invalid_reply_target', detail);

const THREAD_TS = /^\d{1,12}\.\d{1,9}$/;

const optionalId = (v: unknown, field: string): string | undefined => {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw invalidSlackTarget(`a slack reply target's ${field} must be a string`);
  return v;
};

/** Checks the shape and returns the route with only known fields. */
export function slackRoute(input: Record<string, unknown>): SlackRoute {
  const connector = input.connector;
  if (typeof connector !== 'string' || connector === '')
    throw invalidSlackTarget('a slack reply target needs a connector name');
  const channel = input.channel_id ?? input.channel;
  if (typeof channel !== 'string' || channel === '')
    throw invalidSlackTarget('a slack reply target needs a channel_id');
  const route: SlackRoute = { connector, channel_id: channel };
  const enterprise = optionalId(input.enterprise_id, 'enterprise_id');
  const team = optionalId(input.team_id, 'team_id');
  const thread = optionalId(input.thread_ts, 'thread_ts');
  if (enterprise) route.enterprise_id = enterprise;
  if (team) route.team_id = team;
  if (thread) {
    if (!THREAD_TS.test(thread)) throw invalidSlackTarget('thread_ts must be a Slack message timestamp');
    route.thread_ts = thread;
  }
  return route;
}

export const slackAddress = (route: SlackRoute): string => canonicalJson(route);

export function parseSlackAddress(address: string): SlackRoute {
  let v: unknown;
  try {
    v = JSON.parse(address);
  } catch {
    throw invalidSlackTarget('a slack reply target address is JSON {connector, channel_id, …}');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw invalidSlackTarget('a slack reply target address is a JSON object');
  return slackRoute(v as Record<string, unknown>);
}

export function slackFromStructured(request: Record<string, unknown>): ReplyHandle | null {
  if (request.type !== 'slack') return null;
  return { plugin: 'slack', address: slackAddress(slackRoute(request)) };
}

/** The allowlists a target must satisfy (an empty list allows all). */
export function checkRouteAllowed(config: SlackConfig, route: SlackRoute): void {
  const outside = (list: string[], v: string | undefined) =>
    list.length > 0 && (v === undefined || !list.includes(v));
  if (outside(config.allowedChannelIds, route.channel_id))
    throw invalidSlackTarget(`channel ${route.channel_id} is not in the connector's allowed_channel_ids`);
  if (
    config.allowedTeamIds.length > 0 &&
    route.team_id !== undefined &&
    outside(config.allowedTeamIds, route.team_id)
  )
    throw invalidSlackTarget(`team ${route.team_id} is not in the connector's allowed_team_ids`);
  if (
    config.allowedEnterpriseIds.length > 0 &&
    route.enterprise_id !== undefined &&
    outside(config.allowedEnterpriseIds, route.enterprise_id)
  )
    throw invalidSlackTarget(
      `enterprise ${route.enterprise_id} is not in the connector's allowed_enterprise_ids`,
    );
}
