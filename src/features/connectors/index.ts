// Connectors (api-collab §6–§7): the registry (file-backed and runtime-managed), the shared
// ingress pipeline other transports reach through ConnectorsPort, and the HTTP connector.
import type { FeatureModule } from '../feature.ts';
import type { RuntimeService } from '../runtime/service.ts';
import type { SecretsService } from '../secrets/service.ts';
import type { SessionsFeature } from '../sessions/index.ts';
import type { CreateSessionRequest } from '../sessions/schema.ts';
import { httpConnectorAdapter } from './http-connector.ts';
import { replyDefaultsOf } from './reply-defaults.ts';
import { registerConnectorRoutes } from './routes.ts';
import { ConnectorsService } from './service.ts';

export const connectorsFeature: FeatureModule<ConnectorsService> = {
  name: 'connectors',
  create: (k) => {
    const connectors = new ConnectorsService({
      engine: k.engine,
      secretStore: k.secretStore,
      log: k.log,
      configPath: k.config.connectorsConfig,
      createSession: (body) =>
        k.use<SessionsFeature>('sessions').sessions.create(body as CreateSessionRequest),
      // Asked at use time: the deliveries feature may be built after this one, or be absent.
      deliveries: () => {
        try {
          return replyDefaultsOf(k.use('deliveries'), k.engine);
        } catch {
          return null;
        }
      },
    });
    connectors.registerKind(httpConnectorAdapter);
    k.use<SecretsService>('secrets').addReferenceCheck((slot) => connectors.registry.slotUsers(slot));
    k.use<RuntimeService>('runtime').addStatusSection('connectors', () => connectors.statusView());
    return connectors;
  },
  routes: (app, connectors) => registerConnectorRoutes(app, connectors),
  // After every feature registered its kind: the file's entries are checked with their kind's rules.
  prepare: async (connectors) => {
    await connectors.registry.loadFile(connectors.configPath);
  },
};
