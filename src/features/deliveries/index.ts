// Output routing and the durable delivery queue (api-collab §8, api-core §3.4/§3.14; docs/
// deliveries.md). Other features register their OutputPlugins through the port (port.ts) as
// `k.use<DeliveriesPort>('deliveries')`; the http plugin is this feature's own. The engine asks
// it for each new run's reply-target snapshot and tells it every persisted output.
import type { AssetsPort } from '../assets/port.ts';
import type { FeatureModule } from '../feature.ts';
import type { RuntimeService } from '../runtime/service.ts';
import { createHttpPlugin } from './http-plugin.ts';
import { DeliveryQueue } from './queue.ts';
import { registerDeliveryRoutes } from './routes.ts';
import { DeliveriesService } from './service.ts';
import { deliverySettings } from './settings.ts';
import { deliveryStatus, deliveryWarnings } from './status.ts';

export const deliveriesFeature: FeatureModule<DeliveriesService> = {
  name: 'deliveries',
  create: (k) => {
    const settings = deliverySettings();
    const service = new DeliveriesService(k.engine, settings);
    service.queue = new DeliveryQueue({
      store: k.store,
      events: k.events,
      audit: k.engine.opts.audit,
      log: k.log,
      replicaId: k.engine.leases.replicaId,
      settings,
      plugins: service.plugins,
      readAsset: (id) => k.use<AssetsPort>('assets').readRaw(id),
    });
    service.registerPlugin(createHttpPlugin({ timeoutMs: () => settings.attemptTimeoutMs }));
    const defaults = k.engine.requestDefaults;
    k.engine.requestDefaults = (session, request) =>
      service.snapshotTargets(session, defaults(session, request));
    k.engine.onOutput((tx, run, record) => service.enqueueOutput(tx, run, record));
    const runtime = k.use<RuntimeService>('runtime');
    runtime.addStatusSection('delivery', () => deliveryStatus(service));
    runtime.addHealthWarnings(() => deliveryWarnings(service));
    return service;
  },
  routes: (app, service) => registerDeliveryRoutes(app, service),
  prepare: async (service) => {
    await service.queue.settleOrphans(true);
  },
  start: (service) => service.queue.start(),
  stop: (service) => service.queue.stop(),
  shutdown: (service) => service.queue.shutdown(),
};
