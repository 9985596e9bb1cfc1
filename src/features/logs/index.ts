// The daemon's recent log records (GET /v1/logs). The ring itself is filled by the logger
// (src/daemon.ts makeLogger); this feature reads it.
import type { FeatureModule } from '../feature.ts';
import { logRingOf } from './ring.ts';
import { registerLogRoutes } from './routes.ts';
import { LogsService } from './service.ts';

export const logsFeature: FeatureModule<LogsService> = {
  name: 'logs',
  create: (k) => new LogsService(logRingOf(k.log), () => k.engine.secretValues()),
  routes: (app, logs) => registerLogRoutes(app, logs),
};
