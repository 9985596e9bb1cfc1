// The Slack connector's settings (api-collab §6.5) and what ingress and output read from them.
// Secrets (`bot_token`, `signing_secret`) are kept by the connectors registry; a team's own bot
// token (`team_bot_tokens`) names a secret slot or an environment variable, never a value, because
// the registry stores non-secret settings as they are given.
import { z } from 'zod';
import { checkApiBaseUrl, invalidConnector, parseSettings } from '../shared/settings-checks.ts';

export const SLACK_DEFAULT_API = 'https://slack.com/api';

const Id = z.string().min(1);
const ReplyHandle = z.object({ plugin: z.string().min(1), address: z.string().min(1) }).strict();

/** `{secret_ref}` or `{env}` (API form) — an inline `value` would be stored in clear. */
const TeamTokenRef = z
  .object({ secret_ref: z.string().min(1).optional(), env: z.string().min(1).optional() })
  .strict();

const TeamBotToken = z
  .object({
    team_id: Id,
    bot_token: TeamTokenRef.optional(),
    // The TOML spellings of the same two sources.
    bot_token_secret_ref: z.string().min(1).optional(),
    bot_token_env: z.string().min(1).optional(),
  })
  .strict();

export const SlackSettingsSchema = z
  .object({
    allow_unauthenticated_ingress: z.boolean().optional(),
    api_base_url: z.string().optional(),
    fixed_session_id: z.string().min(1).nullish(),
    include_self_output: z.boolean().optional(),
    additional_reply_targets: z.array(ReplyHandle).optional(),
    additional_binding_keys: z.array(Id).optional(),
    session_policy: z.unknown().optional(),
    ingress_events_per_second: z.number().positive().optional(),
    allowed_api_app_ids: z.array(Id).optional(),
    allowed_enterprise_ids: z.array(Id).optional(),
    allowed_team_ids: z.array(Id).optional(),
    allowed_channel_ids: z.array(Id).optional(),
    allowed_file_hosts: z.array(Id).optional(),
    team_bot_tokens: z.array(TeamBotToken).optional(),
  })
  .strict();

/** Where one team's bot token comes from. */
export interface TeamTokenSource {
  team_id: string;
  secret_ref?: string;
  env?: string;
}

export interface SlackConfig {
  allowUnauthenticated: boolean;
  apiBaseUrl: string;
  fixedSessionId: string | null;
  includeSelfOutput: boolean;
  additionalReplyTargets: Array<{ plugin: string; address: string }>;
  additionalBindingKeys: string[];
  allowedAppIds: string[];
  allowedEnterpriseIds: string[];
  allowedTeamIds: string[];
  allowedChannelIds: string[];
  /** Lower-case host names files may be downloaded from besides Slack's and the API host. */
  allowedFileHosts: string[];
  teamTokens: TeamTokenSource[];
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function fileHost(entry: string): string {
  const raw = entry.includes('://') ? entry : `https://${entry}`;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw invalidConnector(`allowed_file_hosts: ${JSON.stringify(entry)} is not a host name`);
  }
  if (u.protocol !== 'https:')
    throw invalidConnector(`allowed_file_hosts: ${JSON.stringify(entry)} must be an HTTPS host`);
  if (u.pathname !== '/' || u.search || u.hash || u.username || u.password)
    throw invalidConnector(`allowed_file_hosts: ${JSON.stringify(entry)} must be a bare host name`);
  return u.host.toLowerCase();
}

/** Parses stored settings (throws 400 `connectors/invalid_connector` when they are not valid). */
export function slackConfig(settings: Record<string, unknown>): SlackConfig {
  const s = parseSettings(SlackSettingsSchema, settings, 'slack');
  const teamTokens: TeamTokenSource[] = [];
  for (const t of s.team_bot_tokens ?? []) {
    const secretRef = t.bot_token?.secret_ref ?? t.bot_token_secret_ref;
    const env = t.bot_token?.env ?? t.bot_token_env;
    if ((secretRef === undefined) === (env === undefined))
      throw invalidConnector(
        `team_bot_tokens[${t.team_id}]: give exactly one of bot_token.secret_ref or bot_token.env (an inline value is not accepted here: store it as a secret first)`,
      );
    if (env !== undefined && !ENV_NAME.test(env))
      throw invalidConnector(`team_bot_tokens[${t.team_id}]: env must name an environment variable`);
    if (teamTokens.some((x) => x.team_id === t.team_id))
      throw invalidConnector(`team_bot_tokens: team ${t.team_id} is listed twice`);
    teamTokens.push({ team_id: t.team_id, ...(secretRef ? { secret_ref: secretRef } : { env }) });
  }
  return {
    allowUnauthenticated: s.allow_unauthenticated_ingress ?? false,
    apiBaseUrl: checkApiBaseUrl(s.api_base_url ?? SLACK_DEFAULT_API),
    fixedSessionId: s.fixed_session_id ?? null,
    includeSelfOutput: s.include_self_output ?? true,
    additionalReplyTargets: s.additional_reply_targets ?? [],
    additionalBindingKeys: s.additional_binding_keys ?? [],
    allowedAppIds: s.allowed_api_app_ids ?? [],
    allowedEnterpriseIds: s.allowed_enterprise_ids ?? [],
    allowedTeamIds: s.allowed_team_ids ?? [],
    allowedChannelIds: s.allowed_channel_ids ?? [],
    allowedFileHosts: (s.allowed_file_hosts ?? []).map(fileHost),
    teamTokens,
  };
}

/** §6.5 validation: without a signing secret the connector must say it accepts unsigned events. */
export function validateSlack(settings: Record<string, unknown>, secrets: ReadonlySet<string>): SlackConfig {
  const c = slackConfig(settings);
  if (!secrets.has('signing_secret') && !c.allowUnauthenticated)
    throw invalidConnector(
      'a Slack connector needs signing_secret, or allow_unauthenticated_ingress=true to accept unsigned events',
    );
  return c;
}
