// Reading one Telegram Bot API `Update` (api-collab §6.6): `message`, `edited_message` and
// `callback_query` become runs; other update types are acknowledged as skipped. Pure, so webhook
// and polling ingress read updates the same way.
import { DaemonError } from '../../../errors/daemon-error.ts';
import { fingerprintOf } from '../shared/fingerprint.ts';

export const SUPPORTED_UPDATES = ['message', 'edited_message', 'callback_query'] as const;

export interface TelegramMedia {
  kind: 'photo' | 'document';
  file_id: string;
  file_name: string;
  media_type: string | null;
  file_size: number | null;
}

export interface TelegramMessage {
  update_id: number;
  source: (typeof SUPPORTED_UPDATES)[number];
  chat_id: number;
  thread_id: number | null;
  message_id: number | null;
  from_id: number | null;
  text: string;
  media: TelegramMedia[];
  callback_query_id: string | null;
  event_key: string;
  fingerprint: string;
}

export type TelegramUpdate =
  | { kind: 'skipped'; update_id: number; reason: string; chat_id?: number }
  | { kind: 'message'; message: TelegramMessage };

export const badUpdate = (code: string, detail: string) =>
  new DaemonError(400, 'connector_ingress', code, detail);

const int = (v: unknown): number | null => (typeof v === 'number' && Number.isSafeInteger(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

export function readUpdateId(body: unknown): number {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw badUpdate('invalid_telegram_update', 'a Telegram update is a JSON object');
  const id = int((body as Record<string, unknown>).update_id);
  if (id === null || id < 0)
    throw badUpdate('update_id_required', 'a Telegram update carries a non-negative integer update_id');
  return id;
}

function mediaOf(m: any): TelegramMedia[] {
  const out: TelegramMedia[] = [];
  if (Array.isArray(m.photo) && m.photo.length > 0) {
    // Sizes come smallest first: the last is the original resolution.
    const p = m.photo[m.photo.length - 1];
    if (p && typeof p.file_id === 'string')
      out.push({
        kind: 'photo',
        file_id: p.file_id,
        file_name: `photo-${str(p.file_unique_id) ?? 'telegram'}.jpg`,
        media_type: 'image/jpeg',
        file_size: int(p.file_size),
      });
  }
  const d = m.document;
  if (d && typeof d === 'object' && typeof d.file_id === 'string')
    out.push({
      kind: 'document',
      file_id: d.file_id,
      file_name: str(d.file_name) ?? `document-${str(d.file_unique_id) ?? 'telegram'}`,
      media_type: str(d.mime_type),
      file_size: int(d.file_size),
    });
  return out;
}

export function readTelegramUpdate(body: unknown): TelegramUpdate {
  const updateId = readUpdateId(body);
  const u = body as Record<string, any>;
  const source = SUPPORTED_UPDATES.find((k) => u[k] !== undefined && u[k] !== null);
  if (!source) return { kind: 'skipped', update_id: updateId, reason: 'unsupported_update_type' };
  const base = {
    update_id: updateId,
    source,
    event_key: `telegram:update:${updateId}`,
    fingerprint: fingerprintOf(u),
  };
  if (source === 'callback_query') {
    const q = u.callback_query;
    if (typeof q !== 'object' || typeof q.id !== 'string')
      throw badUpdate('invalid_telegram_update', 'a callback_query carries an id');
    const chat = int(q.message?.chat?.id);
    // An inline-mode button has no chat to answer in.
    if (chat === null) return { kind: 'skipped', update_id: updateId, reason: 'no_chat' };
    if (q.from?.is_bot === true)
      return { kind: 'skipped', update_id: updateId, reason: 'bot_message', chat_id: chat };
    return {
      kind: 'message',
      message: {
        ...base,
        chat_id: chat,
        thread_id: int(q.message?.message_thread_id),
        message_id: int(q.message?.message_id),
        from_id: int(q.from?.id),
        text: str(q.data) ?? str(q.game_short_name) ?? '[button pressed]',
        media: [],
        callback_query_id: q.id,
      },
    };
  }
  const m = u[source];
  if (typeof m !== 'object' || m === null)
    throw badUpdate('invalid_telegram_update', `${source} is an object`);
  const chat = int(m.chat?.id);
  if (chat === null) throw badUpdate('invalid_telegram_update', `${source}.chat.id is an integer`);
  if (m.from?.is_bot === true)
    return { kind: 'skipped', update_id: updateId, reason: 'bot_message', chat_id: chat };
  const text = typeof m.text === 'string' ? m.text : typeof m.caption === 'string' ? m.caption : '';
  const media = mediaOf(m);
  if (text.trim() === '' && media.length === 0)
    return { kind: 'skipped', update_id: updateId, reason: 'no_content', chat_id: chat };
  return {
    kind: 'message',
    message: {
      ...base,
      chat_id: chat,
      thread_id: int(m.message_thread_id),
      message_id: int(m.message_id),
      from_id: int(m.from?.id),
      text,
      media,
      callback_query_id: null,
    },
  };
}
