// The web console ("Kheish Air"): static files served at / and /assets/* (issue 21).
import type { FeatureModule } from '../feature.ts';
import { registerConsoleRoutes } from './routes.ts';
import { ConsoleService } from './service.ts';

export const consoleFeature: FeatureModule<ConsoleService> = {
  name: 'console',
  create: () => new ConsoleService(),
  routes: (app, service) => registerConsoleRoutes(app, service),
};
