// Runs (api-core §3.8): views, events, streams, cancel.
import type { DeliveriesPort } from '../deliveries/port.ts';
import type { FeatureModule } from '../feature.ts';
import { registerRunRoutes } from './routes.ts';
import { RunsService } from './service.ts';

export const runsFeature: FeatureModule<RunsService> = {
  name: 'runs',
  // Reply targets are normalized by the deliveries feature, asked at submit time.
  create: (k) =>
    new RunsService(k.engine, (reqs) => k.use<DeliveriesPort>('deliveries').normalizeTargets(reqs)),
  routes: (app, runs, k) => registerRunRoutes(app, runs, k.events),
};
