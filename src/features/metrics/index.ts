// Prometheus metrics (GET /metrics, and --metrics-bind): see service.ts and collector.ts.
import type { Server } from 'node:http';
import type { FeatureModule } from '../feature.ts';
import type { RuntimeService } from '../runtime/service.ts';
import { listenMetrics } from './listener.ts';
import { registerMetricsRoutes } from './routes.ts';
import { MetricsService } from './service.ts';

const servers = new WeakMap<MetricsService, Server>();
const binds = new WeakMap<MetricsService, () => Promise<void>>();

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
    });
    // Counting starts before run recovery, so recovered runs are seen finishing.
    metrics.start();
    const bind = k.config.metricsBind;
    if (bind)
      binds.set(metrics, async () => {
        const { server, address } = await listenMetrics(metrics, bind, (err) =>
          k.log.warn({ err: String(err) }, 'metrics scrape failed'),
        );
        servers.set(metrics, server);
        k.log.info({ url: `${address}/metrics` }, 'metrics listener ready');
      });
    return metrics;
  },
  routes: (app, metrics) => registerMetricsRoutes(app, metrics),
  // Before run recovery: a port that is taken stops the start before any work begins.
  prepare: async (metrics) => {
    await binds.get(metrics)?.();
  },
  stop: (metrics) => metrics.stop(),
  shutdown: async (metrics) => {
    const server = servers.get(metrics);
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  },
};
