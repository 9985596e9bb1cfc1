// The `telegram` reply-target address (`TelegramReplyRoute`): canonical JSON
// `{"chat_id", "connector", "message_thread_id"?, "reply_to_message_id"?}` (api-core #28). A
// connector with `allowed_chat_ids` refuses other chats when a target is stored and when sent.
import { canonicalJson } from '../../../engine/output-contract.ts';
import { DaemonError } from '../../../errors/daemon-error.ts';
import type { ReplyHandle } from '../../deliveries/port.ts';

export interface TelegramRoute {
  connector: string;
  chat_id: number;
  message_thread_id?: number;
  reply_to_message_id?: number;
}

export const invalidTelegramTarget = (detail: string) =>
  new DaemonError(400, 'deliveries', 'invalid_reply_target', detail);

const optionalInt = (v: unknown, field: string): number | undefined => {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v))
    throw invalidTelegramTarget(`a telegram reply target's ${field} must be an integer`);
  return v;
};

export function telegramRoute(input: Record<string, unknown>): TelegramRoute {
  const connector = input.connector;
  if (typeof connector !== 'string' || connector === '')
    throw invalidTelegramTarget('a telegram reply target needs a connector name');
  const chat = optionalInt(input.chat_id, 'chat_id');
  if (chat === undefined) throw invalidTelegramTarget('a telegram reply target needs a chat_id');
  const route: TelegramRoute = { connector, chat_id: chat };
  const thread = optionalInt(input.message_thread_id, 'message_thread_id');
  const replyTo = optionalInt(input.reply_to_message_id, 'reply_to_message_id');
  if (thread !== undefined) route.message_thread_id = thread;
  if (replyTo !== undefined) route.reply_to_message_id = replyTo;
  return route;
}

export const telegramAddress = (route: TelegramRoute): string => canonicalJson(route);

export function parseTelegramAddress(address: string): TelegramRoute {
  let v: unknown;
  try {
    v = JSON.parse(address);
  } catch {
    throw invalidTelegramTarget('a telegram reply target address is JSON {connector, chat_id, …}');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw invalidTelegramTarget('a telegram reply target address is a JSON object');
  return telegramRoute(v as Record<string, unknown>);
}

export function telegramFromStructured(request: Record<string, unknown>): ReplyHandle | null {
  if (request.type !== 'telegram') return null;
  return { plugin: 'telegram', address: telegramAddress(telegramRoute(request)) };
}
