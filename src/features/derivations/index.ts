// Derivations (api-core §8.5, docs/derivations.md): canonical text and visual previews of assets,
// observations and session input, cached durably per versioned key. Uses the assets feature's
// port, and the observations feature's when it is present (asked for at request time).
import type { FeatureModule } from '../feature.ts';
import { registerDerivationRoutes } from './routes.ts';
import { DerivationsService } from './service.ts';

export const derivationsFeature: FeatureModule<DerivationsService> = {
  name: 'derivations',
  create: (k) => new DerivationsService(k),
  routes: (app, derivations) => registerDerivationRoutes(app, derivations),
  prepare: async (derivations) => {
    await derivations.repair();
  },
  stop: (derivations) => derivations.stop(),
};
