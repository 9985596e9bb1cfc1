// Credential scope enforcement and the credential broker (docs/credentials.md): installs the
// engine's gate before provider calls, the 409 on deleting a slot a route names, lease revocation
// on slot rotation, and the /v1/runtime/auth API.
import type { FeatureModule } from '../feature.ts';
import type { RuntimeService } from '../runtime/service.ts';
import type { SecretsService } from '../secrets/service.ts';
import { CredentialBroker } from './broker.ts';
import { registerCredentialRoutes } from './routes.ts';
import { CredentialsService } from './service.ts';

export const credentialsFeature: FeatureModule<CredentialsService> = {
  name: 'credentials',
  create: (k) => {
    const broker = new CredentialBroker({
      store: k.store,
      routes: k.engine.routes,
      log: k.log,
      ttlMs: k.config.authLeaseTtlMs,
    });
    const secrets = k.use<SecretsService>('secrets');
    const service = new CredentialsService({
      broker,
      store: k.store,
      secrets: k.secretStore,
      secretsApi: secrets,
    });
    k.engine.credentialGate = broker;
    // ops-runtime #25 for routes: a slot a configured route reads cannot be deleted under it.
    secrets.addReferenceCheck((slot) => {
      const routes = k.engine.routes
        .list()
        .filter((r) => r.config.auth_ref === slot)
        .map((r) => r.config.route_id);
      return routes.length ? [`route ${routes.join(', ')}`] : [];
    });
    secrets.onChange((slotId) => service.slotChanged(slotId));
    // Counters only (never a token): how often the hot path reused a lease, issued one, refused.
    k.use<RuntimeService>('runtime').addStatusSection('credentials', () => ({
      lease_ttl_ms: broker.ttlMs,
      revocation_epoch: broker.revocationEpoch,
      ...broker.counters,
    }));
    return service;
  },
  routes: (app, service, k) => registerCredentialRoutes(app, service, k.use<SecretsService>('secrets')),
  prepare: (service) => service.prepare(),
};
