// Telegram ingress (api-collab §6.6), shared by the webhook route and the poller: one update →
// at most one run, keyed by update_id; rate-limited only when new (the connectors pipeline takes
// the token after dedupe); media fetched only after that; a callback query answered through the
// Bot API only once its run is durably submitted, never for a duplicate.
import { timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import { DaemonError } from '../../../errors/daemon-error.ts';
import type { AssetsPort } from '../../assets/port.ts';
import type { ConnectorRecord, ConnectorsPort, IngressEvent, IngressResult } from '../../connectors/port.ts';
import type { ReplyHandle } from '../../deliveries/port.ts';
import { ingestWithImageFallback, isImageType } from '../shared/image-fallback.ts';
import { inputWith, withoutFilesText } from '../shared/inbound-media.ts';
import {
  type ChatIngressReply,
  configuredSecret,
  ingressUnauthorized,
  renderResult,
  requireConnector,
} from '../shared/ingress-reply.ts';
import { telegramAddress } from './address.ts';
import { TelegramBotApi } from './bot-api.ts';
import { fetchTelegramMedia } from './media.ts';
import { chatAllowed, type TelegramConfig, telegramConfig } from './settings.ts';
import { badUpdate, readTelegramUpdate, type TelegramMessage } from './updates.ts';

export type TelegramOutcome = IngressResult | { status: 'skipped'; reason: string };

export interface TelegramWebhookRequest {
  name: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody: Uint8Array;
}

function secretMatches(expected: string, given: string | string[] | undefined): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

export class TelegramIngress {
  private readonly connectors: ConnectorsPort;
  private readonly assets: () => AssetsPort;
  private readonly log: Logger;

  constructor(connectors: ConnectorsPort, assets: () => AssetsPort, log: Logger) {
    this.connectors = connectors;
    this.assets = assets;
    this.log = log;
  }

  async webhook(req: TelegramWebhookRequest): Promise<ChatIngressReply> {
    const rec = await requireConnector(this.connectors, 'telegram', req.name);
    const config = telegramConfig(rec.settings);
    if (config.mode !== 'webhook')
      throw new DaemonError(
        409,
        'connector_ingress',
        'ingress_mode_mismatch',
        `connector telegram/${req.name} polls for updates; its webhook is closed`,
      );
    const secret = await configuredSecret(this.connectors, rec, 'secret_token');
    if (secret !== null) {
      if (!secretMatches(secret, req.headers['x-telegram-bot-api-secret-token']))
        throw ingressUnauthorized(
          'telegram_secret_token_invalid',
          'X-Telegram-Bot-Api-Secret-Token is missing or does not match',
        );
    } else if (!config.allowUnauthenticated) {
      throw ingressUnauthorized('telegram_secret_token_invalid', 'this connector refuses unsigned updates');
    }
    let body: unknown;
    try {
      body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(req.rawBody));
    } catch {
      throw badUpdate('invalid_telegram_update', 'the Telegram update is not JSON');
    }
    const out = await this.process(rec, config, body, secret !== null);
    if (out.status === 'skipped') {
      if (out.reason === 'chat_not_allowed')
        throw new DaemonError(
          403,
          'connector_ingress',
          'chat_not_allowed',
          "this chat is not in the connector's allowed_chat_ids",
        );
      return { status: 200, body: { ok: true, status: 'skipped', reason: out.reason } };
    }
    return renderResult(out);
  }

  /** One update, from the webhook or the poller. */
  async process(
    rec: ConnectorRecord,
    config: TelegramConfig,
    body: unknown,
    authenticated: boolean,
    signal?: AbortSignal,
  ): Promise<TelegramOutcome> {
    const update = readTelegramUpdate(body);
    if (update.kind === 'skipped') {
      if (update.chat_id !== undefined && !chatAllowed(config, update.chat_id))
        return { status: 'skipped', reason: 'chat_not_allowed' };
      return { status: 'skipped', reason: update.reason };
    }
    const m = update.message;
    if (!chatAllowed(config, m.chat_id)) return { status: 'skipped', reason: 'chat_not_allowed' };
    const token = await this.connectors.secret('telegram', rec.name, 'bot_token');
    const api = token ? new TelegramBotApi(config.apiBaseUrl, token, signal) : null;
    const event = this.toIngress(rec.name, config, m, authenticated);
    const withMedia = (dropImages: boolean) => async (ev: IngressEvent) => {
      const images = dropImages ? m.media.filter((x) => isImageType(x.media_type)) : [];
      const { items, skipped } = await fetchTelegramMedia(
        this.assets(),
        api!,
        m.media.filter((x) => !images.includes(x)),
      );
      skipped.push(...images.map((x) => ({ id: x.file_id, reason: 'route_cannot_read_images' })));
      return {
        ...ev,
        input: inputWith(m.text, items, m.media.length),
        metadata: { ...ev.metadata, ...(skipped.length ? { telegram_skipped_files: skipped } : {}) },
      };
    };
    const result = await ingestWithImageFallback(
      this.connectors,
      event,
      undefined,
      api && authenticated && m.media.length > 0 ? withMedia : null,
      signal,
    );
    if (result.status === 'accepted' && m.callback_query_id && api) {
      const ack = await api.call('answerCallbackQuery', { callback_query_id: m.callback_query_id }, 15_000);
      if (!ack.ok)
        this.log.warn({ connector: `telegram/${rec.name}`, error: ack.error }, 'answerCallbackQuery failed');
    }
    return result;
  }

  private toIngress(
    name: string,
    config: TelegramConfig,
    m: TelegramMessage,
    authenticated: boolean,
  ): IngressEvent {
    const self: ReplyHandle = {
      plugin: 'telegram',
      address: telegramAddress({
        connector: name,
        chat_id: m.chat_id,
        ...(m.thread_id !== null ? { message_thread_id: m.thread_id } : {}),
      }),
    };
    const targets = [...(config.includeSelfOutput ? [self] : []), ...config.additionalReplyTargets];
    const natural = [
      'telegram',
      name,
      String(m.chat_id),
      ...(m.thread_id !== null ? [String(m.thread_id)] : []),
    ];
    return {
      kind: 'telegram',
      connector: name,
      event_key: m.event_key,
      fingerprint: m.fingerprint,
      authenticated,
      session: {
        fixed_session_id: config.fixedSessionId,
        binding_keys: config.additionalBindingKeys,
        natural_session_id: natural.join(':'),
      },
      actor_id: m.from_id !== null ? `telegram:${m.from_id}` : 'telegram',
      input: { content: withoutFilesText(m.text, m.media.length) },
      metadata: {
        telegram_update_type: m.source,
        telegram_chat_id: m.chat_id,
        ...(m.thread_id !== null ? { telegram_message_thread_id: m.thread_id } : {}),
        ...(m.message_id !== null ? { telegram_message_id: m.message_id } : {}),
        ...(m.from_id !== null ? { telegram_from_id: m.from_id } : {}),
        telegram_ingress_fingerprint: m.fingerprint,
      },
      ...(targets.length > 0 ? { reply_targets: targets } : {}),
    };
  }
}
