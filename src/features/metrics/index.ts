// Prometheus metrics (GET /metrics, and --metrics-bind): see service.ts and collector.ts.
import type { FeatureModule } from '../feature.ts';
import type { RuntimeService } from '../runtime/service.ts';
import { registerMetricsRoutes } from './routes.ts';
import { MetricsService } from './service.ts';

export const metricsFeature: FeatureModule<MetricsService> = {
  name: 'metrics',
  create: (k) => {
    let runtime: RuntimeService | null = null;
    const metrics = new MetricsService({
      store: k.store,
      events: k.events,
      replicaId: k.config.replicaId,
      startedAtMs: k.startedAtMs,
      runtime: () => {
        runtime ??= k.use<RuntimeService>('runtime');
        return runtime;
      },
      listen: k.config.metricsBind ? { bind: k.config.metricsBind, log: k.log } : null,
    });
    // Counting starts before run recovery, so recovered runs are seen finishing.
    metrics.start();
    return metrics;
  },
  routes: (app, metrics) => registerMetricsRoutes(app, metrics),
  // Before run recovery: a port that is taken stops the start before any work begins.
  prepare: (metrics) => metrics.listenIfAsked(),
  stop: (metrics) => metrics.stop(),
  shutdown: (metrics) => metrics.close(),
};
