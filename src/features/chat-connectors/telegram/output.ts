// The `telegram` output plugin (api-collab §6.6 "Output"): text in chunks of at most 4,096 Unicode
// scalar values (sendMessage), then each attachment through sendPhoto, sendAudio or sendDocument.
// The count of chunks and attachments sent is saved after each step, so a retry resumes; Telegram
// has no idempotency key, so a step that succeeded just before a crash may be sent again.
import type { ConnectorsPort } from '../../connectors/port.ts';
import type {
  DeliveryArtifact,
  DeliveryContext,
  DeliveryItem,
  DeliveryOutcome,
  OutputPlugin,
  ReplyHandle,
} from '../../deliveries/port.ts';
import { chunkText } from '../shared/chunk-text.ts';
import { numberOr } from '../shared/progress.ts';
import {
  invalidTelegramTarget,
  parseTelegramAddress,
  type TelegramRoute,
  telegramFromStructured,
} from './address.ts';
import { TelegramBotApi, type TelegramCall } from './bot-api.ts';
import { chatAllowed, type TelegramConfig, telegramConfig } from './settings.ts';

export const TELEGRAM_TEXT_LIMIT = 4096;
/** sendPhoto takes photos up to 10 MB; larger images go as documents. */
const PHOTO_MAX_BYTES = 10 * 1024 * 1024;
const PHOTO_TYPES = new Set(['image/jpeg', 'image/png', 'image/webp']);
/** sendAudio plays MP3 and M4A; other audio is sent as a document. */
const AUDIO_TYPES = new Set(['audio/mpeg', 'audio/mp4', 'audio/x-m4a', 'audio/m4a']);

const failed = (r: Extract<TelegramCall, { ok: false }>): DeliveryOutcome =>
  r.retry
    ? {
        status: 'retry',
        error_code: r.error,
        ...(r.retry_after_ms !== undefined ? { retry_after_ms: r.retry_after_ms } : {}),
      }
    : { status: 'terminal', error_code: r.error };

export function sendMethodFor(art: DeliveryArtifact, size: number): { method: string; field: string } {
  if (PHOTO_TYPES.has(art.media_type) && size <= PHOTO_MAX_BYTES)
    return { method: 'sendPhoto', field: 'photo' };
  if (AUDIO_TYPES.has(art.media_type)) return { method: 'sendAudio', field: 'audio' };
  return { method: 'sendDocument', field: 'document' };
}

export class TelegramOutputPlugin implements OutputPlugin {
  readonly plugin = 'telegram';
  readonly receiverDeduplicates = false;
  private readonly connectors: ConnectorsPort;

  constructor(connectors: ConnectorsPort) {
    this.connectors = connectors;
  }

  fromStructured(request: Record<string, unknown>): ReplyHandle | null {
    return telegramFromStructured(request);
  }

  private async configFor(route: TelegramRoute): Promise<TelegramConfig | null> {
    const rec = await this.connectors.get('telegram', route.connector);
    return rec ? telegramConfig(rec.settings) : null;
  }

  async validateAddress(address: string): Promise<void> {
    const route = parseTelegramAddress(address);
    const config = await this.configFor(route);
    if (!config) throw invalidTelegramTarget(`there is no telegram connector named ${route.connector}`);
    if (!chatAllowed(config, route.chat_id))
      throw invalidTelegramTarget(`chat ${route.chat_id} is not in the connector's allowed_chat_ids`);
  }

  async deliver(item: DeliveryItem, ctx: DeliveryContext): Promise<DeliveryOutcome> {
    let route: TelegramRoute;
    let config: TelegramConfig | null;
    try {
      route = parseTelegramAddress(item.target.address);
      config = await this.configFor(route);
    } catch {
      return { status: 'terminal', error_code: 'invalid_reply_target' };
    }
    if (!config) return { status: 'terminal', error_code: 'telegram_connector_not_found' };
    if (!chatAllowed(config, route.chat_id))
      return { status: 'terminal', error_code: 'telegram_chat_not_allowed' };
    const token = await this.connectors.secret('telegram', route.connector, 'bot_token');
    if (!token) return { status: 'terminal', error_code: 'telegram_bot_token_missing' };
    const api = new TelegramBotApi(config.apiBaseUrl, token, ctx.signal);
    const where = {
      chat_id: route.chat_id,
      ...(route.message_thread_id !== undefined ? { message_thread_id: route.message_thread_id } : {}),
    };
    let chunksSent = numberOr(item.progress.chunks_sent, 0);
    let attachmentsSent = numberOr(item.progress.attachments_sent, 0);

    const chunks = chunkText(item.content, TELEGRAM_TEXT_LIMIT);
    for (; chunksSent < chunks.length; ) {
      const first = chunksSent === 0 && route.reply_to_message_id !== undefined;
      const r = await api.call('sendMessage', {
        ...where,
        text: chunks[chunksSent],
        ...(first
          ? { reply_parameters: { message_id: route.reply_to_message_id, allow_sending_without_reply: true } }
          : {}),
      });
      if (!r.ok) return failed(r);
      chunksSent++;
      await ctx.saveProgress({ chunks_sent: chunksSent, attachments_sent: attachmentsSent });
    }

    for (; attachmentsSent < item.artifacts.length; ) {
      const art = item.artifacts[attachmentsSent]!;
      let bytes: Uint8Array;
      try {
        bytes = await ctx.readAsset(art.id);
      } catch {
        return { status: 'terminal', error_code: 'asset_unavailable' };
      }
      const { method, field } = sendMethodFor(art, bytes.byteLength);
      const form = new FormData();
      form.append('chat_id', String(route.chat_id));
      if (route.message_thread_id !== undefined)
        form.append('message_thread_id', String(route.message_thread_id));
      form.append(
        field,
        new Blob([bytes as Uint8Array<ArrayBuffer>], { type: art.media_type }),
        art.file_name,
      );
      const r = await api.call(method, form, 120_000);
      if (!r.ok) return failed(r);
      attachmentsSent++;
      await ctx.saveProgress({ chunks_sent: chunksSent, attachments_sent: attachmentsSent });
    }
    return { status: 'delivered', detail: { messages: chunksSent, attachments: attachmentsSent } };
  }
}
