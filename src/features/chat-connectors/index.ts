// Slack and Telegram connectors (api-collab §6.5, §6.6; docs/connectors.md): connector kinds for
// the registry, ingress routes that turn platform events into runs through the connectors
// pipeline, output plugins for the delivery queue, and the Telegram pollers (started after run
// recovery, stopped before the executors drain).
import type { FeatureModule } from '../feature.ts';
import { registerChatConnectorRoutes } from './routes.ts';
import { ChatConnectorsService } from './service.ts';

export const chatConnectorsFeature: FeatureModule<ChatConnectorsService> = {
  name: 'chat-connectors',
  create: (k) => new ChatConnectorsService(k),
  routes: (app, service) => registerChatConnectorRoutes(app, service),
  start: (service) => service.pollers.start(),
  stop: (service) => service.pollers.stop(),
  shutdown: (service) => service.pollers.shutdown(),
};
