// Assets (api-core §7, docs/assets.md): the content-addressed store other features keep their
// media in, asked for as `k.use<AssetsPort>('assets')` (port.ts). Payloads are files on SQLite and
// rows on PostgreSQL (payload-store.ts); start-up finishes interrupted deletes and reports
// unreadable payloads in GET /v1/status (`storage.asset_repair`, health warnings).
import type { FeatureModule } from '../feature.ts';
import type { RuntimeService } from '../runtime/service.ts';
import { DigestLocks, payloadStoreFor } from './payload-store.ts';
import { AssetReclaimer } from './reclaim.ts';
import { registerAssetRoutes } from './routes.ts';
import { AssetsService } from './service.ts';

export const assetsFeature: FeatureModule<AssetsService> = {
  name: 'assets',
  create: (k) => {
    const service = new AssetsService(
      k.store,
      payloadStoreFor(k.store, k.config.stateRoot),
      new DigestLocks(),
      k.events,
    );
    service.reclaim = new AssetReclaimer(service, k.log);
    const runtime = k.use<RuntimeService>('runtime');
    runtime.addStorageSection('asset_repair', () => service.reclaim.repair);
    runtime.addHealthWarnings(() => service.reclaim.healthWarnings());
    return service;
  },
  routes: (app, service) => registerAssetRoutes(app, service, service.reclaim),
  prepare: async (service) => {
    await service.reclaim.prepare();
  },
};
