// The chat connectors' parts, built once: the Slack and Telegram ingress handlers, the output
// plugins and the Telegram pollers.

import type { AssetsPort } from '../assets/port.ts';
import type { ConnectorsPort } from '../connectors/port.ts';
import type { DeliveriesPort } from '../deliveries/port.ts';
import type { Kernel } from '../feature.ts';
import { SlackIngress } from './slack/ingress.ts';
import { SlackOutputPlugin } from './slack/output.ts';
import { validateSlack } from './slack/settings.ts';
import { TelegramIngress } from './telegram/ingress.ts';
import { TelegramOutputPlugin } from './telegram/output.ts';
import { TelegramPollers } from './telegram/polling.ts';
import { validateTelegram } from './telegram/settings.ts';

export class ChatConnectorsService {
  readonly slack: SlackIngress;
  readonly telegram: TelegramIngress;
  readonly pollers: TelegramPollers;

  constructor(k: Kernel) {
    const connectors = k.use<ConnectorsPort>('connectors');
    const deliveries = k.use<DeliveriesPort>('deliveries');
    const assets = () => k.use<AssetsPort>('assets');
    const log = k.log.child({ feature: 'chat-connectors' });
    this.slack = new SlackIngress(connectors, assets, k.secretStore, log);
    this.telegram = new TelegramIngress(connectors, assets, log);
    this.pollers = new TelegramPollers(connectors, this.telegram, k.store, k.replica.id, log);

    connectors.registerKind({
      kind: 'slack',
      secretFields: ['bot_token', 'signing_secret'],
      validate: async (settings, secrets) => {
        const c = validateSlack(settings, secrets);
        if (c.additionalReplyTargets.length) await deliveries.normalizeTargets(c.additionalReplyTargets);
      },
    });
    connectors.registerKind({
      kind: 'telegram',
      secretFields: ['bot_token', 'secret_token'],
      validate: async (settings, secrets) => {
        const c = validateTelegram(settings, secrets);
        if (c.additionalReplyTargets.length) await deliveries.normalizeTargets(c.additionalReplyTargets);
      },
      onChange: (name, record) => this.pollers.onChange(name, record),
    });
    deliveries.registerPlugin(new SlackOutputPlugin(connectors, k.secretStore));
    deliveries.registerPlugin(new TelegramOutputPlugin(connectors));
  }
}
