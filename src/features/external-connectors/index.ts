// External connectors (api-collab §6.7–§6.8, docs/connectors.md "External sidecars"): the
// `external` connector kind, sidecar children supervised by this daemon, event and batch ingress,
// the credential broker endpoint, and the `external` output plugin.
import type { AssetsPort } from '../assets/port.ts';
import type { ConnectorsPort } from '../connectors/port.ts';
import type { CredentialsService } from '../credentials/service.ts';
import type { DeliveriesPort } from '../deliveries/port.ts';
import type { FeatureModule } from '../feature.ts';
import type { RuntimeService } from '../runtime/service.ts';
import { DeliveryAssets } from './delivery-assets.ts';
import { deliverTimeoutMs, externalOutputPlugin } from './output-plugin.ts';
import { registerExternalRoutes } from './routes.ts';
import { ExternalConnectorsService } from './service.ts';

export const externalConnectorsFeature: FeatureModule<ExternalConnectorsService> = {
  name: 'external-connectors',
  create: (k) => {
    const deliveryAssets = new DeliveryAssets(k.store);
    const connectors = () => k.use<ConnectorsPort>('connectors');
    const service = new ExternalConnectorsService({
      store: k.store,
      log: k.log.child({ feature: 'external-connectors' }),
      secretStore: k.secretStore,
      replicaId: k.replica.id,
      connectors,
      assets: () => k.use<AssetsPort>('assets'),
      grants: () => k.use<CredentialsService>('credentials').connectorGrants,
      deliveryAssets,
    });
    connectors().registerKind(service.adapter());
    k.use<DeliveriesPort>('deliveries').registerPlugin(
      externalOutputPlugin({
        connectors,
        assets: deliveryAssets,
        manifests: service.manifests,
        timeoutMs: () => deliverTimeoutMs(),
      }),
    );
    k.use<RuntimeService>('runtime').addStatusSection('external_connectors', () => service.status());
    return service;
  },
  routes: (app, service) => registerExternalRoutes(app, service),
  start: (service) => service.start(),
  shutdown: (service) => service.shutdown(),
};
