// Runs (api-core §3.8): views, events, streams, cancel.
import type { FeatureModule } from '../feature.ts';
import { registerRunRoutes } from './routes.ts';
import { RunsService } from './service.ts';

export const runsFeature: FeatureModule<RunsService> = {
  name: 'runs',
  create: (k) => new RunsService(k.engine),
  routes: (app, runs, k) => registerRunRoutes(app, runs, k.events),
};
