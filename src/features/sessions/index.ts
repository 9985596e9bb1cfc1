// Sessions (api-core §3): create, view, input, end, streams, and their permission rules.
import type { FeatureModule } from '../feature.ts';
import type { PersonasService } from '../personas/service.ts';
import { registerContractRoutes } from './contracts.ts';
import { registerSessionPermissionRoutes } from './permission-routes.ts';
import { SessionPermissionsService } from './permissions.ts';
import { registerSessionRoutes } from './routes.ts';
import { SessionsService } from './service.ts';

export interface SessionsFeature {
  sessions: SessionsService;
  permissions: SessionPermissionsService;
}

export const sessionsFeature: FeatureModule<SessionsFeature> = {
  name: 'sessions',
  create: (k) => ({
    sessions: new SessionsService(k.engine, k.use<PersonasService>('personas')),
    permissions: new SessionPermissionsService(k.engine),
  }),
  routes: (app, f, k) => {
    registerSessionRoutes(app, f.sessions, k.events);
    registerSessionPermissionRoutes(app, f.permissions);
    registerContractRoutes(app, f.sessions);
  },
};
