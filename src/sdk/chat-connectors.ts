// Typed settings of the Slack and Telegram connectors (api-collab §6.5, §6.6) for
// `client.connectors.put('slack' | 'telegram', name, settings)`, and builders of their structured
// reply targets for `client.deliveries.setReplyTargets`. Types only and pure functions: the calls
// themselves are the connectors and deliveries resources'.
import type { JsonObject } from './types.ts';

/** Write-only: where a secret comes from (`{value}`, `{secret_ref}`, `{value, secret_ref}` or `{env}`). */
export interface ChatSecretInput extends JsonObject {
  value?: string;
  secret_ref?: string;
  env?: string;
}

export interface ReplyHandleInput extends JsonObject {
  plugin: string;
  address: string;
}

interface ChatConnectorCommon extends JsonObject {
  allow_unauthenticated_ingress?: boolean;
  /** Tests point it at a local server; absolute http(s), no userinfo, query or fragment. */
  api_base_url?: string;
  fixed_session_id?: string | null;
  /** Answer where the message came from (default true). */
  include_self_output?: boolean;
  additional_reply_targets?: ReplyHandleInput[];
  additional_binding_keys?: string[];
  session_policy?: JsonObject | null;
  ingress_events_per_second?: number;
}

export interface SlackConnectorSettings extends ChatConnectorCommon {
  bot_token?: ChatSecretInput | null;
  signing_secret?: ChatSecretInput | null;
  allowed_api_app_ids?: string[];
  allowed_enterprise_ids?: string[];
  allowed_team_ids?: string[];
  allowed_channel_ids?: string[];
  /** Extra HTTPS hosts inbound files may be fetched from. */
  allowed_file_hosts?: string[];
  /** A workspace's own bot token, from a secret slot or an environment variable (never a value). */
  team_bot_tokens?: Array<{ team_id: string; bot_token: { secret_ref: string } | { env: string } }>;
}

export interface TelegramConnectorSettings extends ChatConnectorCommon {
  bot_token?: ChatSecretInput | null;
  secret_token?: ChatSecretInput | null;
  ingress_mode?: 'webhook' | 'polling';
  /** 0 to 50 (default 25). */
  polling_timeout_seconds?: number;
  allowed_chat_ids?: number[];
}

/** `{type: "slack", …}`: a channel, and a thread when `thread_ts` is given. */
export function slackReplyTarget(t: {
  connector: string;
  channel_id: string;
  thread_ts?: string;
  team_id?: string;
  enterprise_id?: string;
}): JsonObject {
  return { type: 'slack', ...t };
}

/** `{type: "telegram", …}`: a chat, and a forum topic when `message_thread_id` is given. */
export function telegramReplyTarget(t: {
  connector: string;
  chat_id: number;
  message_thread_id?: number;
  reply_to_message_id?: number;
}): JsonObject {
  return { type: 'telegram', ...t };
}
