// Inbound Telegram photos and documents (api-collab §6.6): getFile, then the bytes from the Bot
// API's file endpoint (no redirects), stored as assets. Only for authenticated updates (secret
// token checked, or polled with the bot token) and only after dedupe and the rate limit.
import type { AssetsPort } from '../../assets/port.ts';
import {
  type InboundItem,
  importInbound,
  MAX_INBOUND_FILE_BYTES,
  type SkippedFile,
  skipReason,
} from '../shared/inbound-media.ts';
import type { TelegramBotApi } from './bot-api.ts';
import type { TelegramMedia } from './updates.ts';

export async function fetchTelegramMedia(
  assets: AssetsPort,
  api: TelegramBotApi,
  media: TelegramMedia[],
): Promise<{ items: InboundItem[]; skipped: SkippedFile[] }> {
  const items: InboundItem[] = [];
  const skipped: SkippedFile[] = [];
  for (const m of media) {
    if (m.file_size !== null && m.file_size > MAX_INBOUND_FILE_BYTES) {
      skipped.push({ id: m.file_id, reason: 'file_too_large' });
      continue;
    }
    const info = await api.call('getFile', { file_id: m.file_id }, 30_000);
    if (!info.ok || typeof info.result?.file_path !== 'string') {
      skipped.push({ id: m.file_id, reason: info.ok ? 'telegram_no_file_path' : info.error });
      continue;
    }
    try {
      const bytes = await api.downloadFile(info.result.file_path, MAX_INBOUND_FILE_BYTES);
      items.push(await importInbound(assets, { file_name: m.file_name, media_type: m.media_type, bytes }));
    } catch (err) {
      skipped.push({ id: m.file_id, reason: skipReason(err) });
    }
  }
  return { items, skipped };
}
