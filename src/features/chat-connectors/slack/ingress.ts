// POST /v1/connectors/slack/{name} (api-collab §6.5): signature and timestamp window, the URL
// verification echo, allowlists, bot-loop prevention, thread → session, idempotency by event id and
// a per connector/team/channel token bucket, then exactly one run through the connectors pipeline.
// Files are fetched (and stored as assets) only for signed requests, and only once the event is
// known to be new and within its rate.
import type { Logger } from 'pino';
import type { SecretStore } from '../../../secrets/secret-store.ts';
import type { AssetsPort } from '../../assets/port.ts';
import type { ConnectorsPort, IngressEvent } from '../../connectors/port.ts';
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
import { slackAddress } from './address.ts';
import { badSlackPayload, readSlackEnvelope, type SlackMessage } from './events.ts';
import { fetchSlackFiles } from './files.ts';
import { type SlackConfig, slackConfig } from './settings.ts';
import { verifySlackSignature } from './signature.ts';
import { slackBotToken } from './tokens.ts';

export interface SlackRequest {
  name: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody: Uint8Array;
}

export class SlackIngress {
  private readonly connectors: ConnectorsPort;
  private readonly assets: () => AssetsPort;
  private readonly secretStore: SecretStore;
  private readonly log: Logger;

  constructor(connectors: ConnectorsPort, assets: () => AssetsPort, secretStore: SecretStore, log: Logger) {
    this.connectors = connectors;
    this.assets = assets;
    this.secretStore = secretStore;
    this.log = log;
  }

  async handle(req: SlackRequest): Promise<ChatIngressReply> {
    const rec = await requireConnector(this.connectors, 'slack', req.name);
    const config = slackConfig(rec.settings);
    const secret = await configuredSecret(this.connectors, rec, 'signing_secret');
    let authenticated = false;
    if (secret !== null) {
      const check = verifySlackSignature(
        secret,
        req.headers['x-slack-request-timestamp'],
        req.headers['x-slack-signature'],
        req.rawBody,
      );
      if (check === 'stale')
        throw ingressUnauthorized(
          'slack_signature_stale',
          'the Slack request timestamp is outside the 5-minute window',
        );
      if (check !== 'ok')
        throw ingressUnauthorized(
          'slack_signature_invalid',
          check === 'missing'
            ? 'X-Slack-Signature and X-Slack-Request-Timestamp are required'
            : 'the Slack signature does not match',
        );
      authenticated = true;
    } else if (!config.allowUnauthenticated) {
      throw ingressUnauthorized(
        'slack_signature_invalid',
        'this connector has no signing secret and refuses unsigned events',
      );
    }

    let body: unknown;
    try {
      body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(req.rawBody));
    } catch {
      throw badSlackPayload('the Slack request body is not JSON');
    }
    const envelope = readSlackEnvelope(body, config);
    switch (envelope.kind) {
      case 'challenge':
        return { status: 200, body: { challenge: envelope.challenge } };
      case 'app_rate_limited':
        this.log.warn({ connector: `slack/${req.name}` }, 'Slack reports that this app is rate limited');
        return { status: 200, body: { ok: true, status: 'acknowledged' } };
      case 'ignored':
        return { status: 200, body: { ok: true, status: 'ignored', reason: envelope.reason } };
    }
    const m = envelope.message;
    const event = this.toIngress(req.name, config, m, authenticated);
    const result = await ingestWithImageFallback(
      this.connectors,
      event,
      `${m.team_id ?? ''}:${m.channel}`,
      authenticated && m.files.length > 0
        ? (dropImages) => (ev) => this.withFiles(req.name, config, m, ev, dropImages)
        : null,
    );
    return renderResult(result);
  }

  private toIngress(
    name: string,
    config: SlackConfig,
    m: SlackMessage,
    authenticated: boolean,
  ): IngressEvent {
    const scope = [m.enterprise_id, m.team_id].filter((x): x is string => x !== null);
    const self: ReplyHandle = {
      plugin: 'slack',
      address: slackAddress({
        connector: name,
        channel_id: m.channel,
        thread_ts: m.root_ts,
        ...(m.enterprise_id ? { enterprise_id: m.enterprise_id } : {}),
        ...(m.team_id ? { team_id: m.team_id } : {}),
      }),
    };
    const targets = [...(config.includeSelfOutput ? [self] : []), ...config.additionalReplyTargets];
    return {
      kind: 'slack',
      connector: name,
      event_key: m.event_key,
      fingerprint: m.fingerprint,
      authenticated,
      session: {
        fixed_session_id: config.fixedSessionId,
        binding_keys: config.additionalBindingKeys,
        natural_session_id: ['slack', name, ...scope, m.channel, m.root_ts].join(':'),
      },
      actor_id: m.user ? ['slack', ...scope, m.user].join(':') : 'slack',
      input: { content: withoutFilesText(m.text, m.files.length) },
      metadata: {
        slack_channel_id: m.channel,
        slack_message_ts: m.ts,
        slack_thread_ts: m.root_ts,
        ...(m.team_id ? { slack_team_id: m.team_id } : {}),
        ...(m.enterprise_id ? { slack_enterprise_id: m.enterprise_id } : {}),
        ...(m.user ? { slack_user_id: m.user } : {}),
        ...(m.api_app_id ? { slack_api_app_id: m.api_app_id } : {}),
        slack_ingress_fingerprint: m.fingerprint,
      },
      ...(targets.length > 0 ? { reply_targets: targets } : {}),
    };
  }

  private async withFiles(
    name: string,
    config: SlackConfig,
    m: SlackMessage,
    ev: IngressEvent,
    dropImages: boolean,
  ): Promise<IngressEvent> {
    const token = await slackBotToken(this.connectors, this.secretStore, name, config, m.team_id);
    const images = dropImages ? m.files.filter((f) => isImageType(f.mimetype)) : [];
    const { items, skipped } = await fetchSlackFiles(
      this.assets(),
      config,
      token,
      m.files.filter((f) => !images.includes(f)),
    );
    skipped.push(...images.map((f) => ({ id: f.id, reason: 'route_cannot_read_images' })));
    return {
      ...ev,
      input: inputWith(m.text, items, m.files.length),
      metadata: { ...ev.metadata, ...(skipped.length ? { slack_skipped_files: skipped } : {}) },
    };
  }
}
