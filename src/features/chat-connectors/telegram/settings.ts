// The Telegram connector's settings (api-collab §6.6). Secrets (`bot_token`, `secret_token`) are
// kept by the connectors registry; this reads and checks the rest.
import { z } from 'zod';
import { checkApiBaseUrl, invalidConnector, parseSettings } from '../shared/settings-checks.ts';

export const TELEGRAM_DEFAULT_API = 'https://api.telegram.org';
export const DEFAULT_POLLING_TIMEOUT_SECS = 25;
/** Long polls are held at most this long (and the poller's lease outlives one poll). */
export const MAX_POLLING_TIMEOUT_SECS = 50;

const ReplyHandle = z.object({ plugin: z.string().min(1), address: z.string().min(1) }).strict();

export const TelegramSettingsSchema = z
  .object({
    allow_unauthenticated_ingress: z.boolean().optional(),
    api_base_url: z.string().optional(),
    ingress_mode: z.enum(['webhook', 'polling']).optional(),
    polling_timeout_seconds: z.number().int().min(0).max(MAX_POLLING_TIMEOUT_SECS).optional(),
    ingress_events_per_second: z.number().min(0).optional(),
    allowed_chat_ids: z
      .array(z.number().int().refine(Number.isSafeInteger, 'a chat id is a safe integer'))
      .optional(),
    fixed_session_id: z.string().min(1).nullish(),
    include_self_output: z.boolean().optional(),
    additional_reply_targets: z.array(ReplyHandle).optional(),
    additional_binding_keys: z.array(z.string().min(1)).optional(),
    session_policy: z.unknown().optional(),
  })
  .strict();

export interface TelegramConfig {
  allowUnauthenticated: boolean;
  apiBaseUrl: string;
  mode: 'webhook' | 'polling';
  pollingTimeoutSecs: number;
  allowedChatIds: number[];
  fixedSessionId: string | null;
  includeSelfOutput: boolean;
  additionalReplyTargets: Array<{ plugin: string; address: string }>;
  additionalBindingKeys: string[];
}

export function telegramConfig(settings: Record<string, unknown>): TelegramConfig {
  const s = parseSettings(TelegramSettingsSchema, settings, 'telegram');
  return {
    allowUnauthenticated: s.allow_unauthenticated_ingress ?? false,
    apiBaseUrl: checkApiBaseUrl(s.api_base_url ?? TELEGRAM_DEFAULT_API),
    mode: s.ingress_mode ?? 'webhook',
    pollingTimeoutSecs: s.polling_timeout_seconds ?? DEFAULT_POLLING_TIMEOUT_SECS,
    allowedChatIds: s.allowed_chat_ids ?? [],
    fixedSessionId: s.fixed_session_id ?? null,
    includeSelfOutput: s.include_self_output ?? true,
    additionalReplyTargets: s.additional_reply_targets ?? [],
    additionalBindingKeys: s.additional_binding_keys ?? [],
  };
}

/** §6.6 validation: polling needs the bot token; a webhook needs a secret token or an explicit opt-out. */
export function validateTelegram(
  settings: Record<string, unknown>,
  secrets: ReadonlySet<string>,
): TelegramConfig {
  const c = telegramConfig(settings);
  if (c.mode === 'polling' && !secrets.has('bot_token'))
    throw invalidConnector('ingress_mode=polling needs a bot_token');
  if (c.mode === 'webhook' && !secrets.has('secret_token') && !c.allowUnauthenticated)
    throw invalidConnector(
      'ingress_mode=webhook needs a secret_token, or allow_unauthenticated_ingress=true to accept unsigned updates',
    );
  return c;
}

export const chatAllowed = (c: TelegramConfig, chatId: number): boolean =>
  c.allowedChatIds.length === 0 || c.allowedChatIds.includes(chatId);
