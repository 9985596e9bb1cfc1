// The secret store's API (docs/secrets.md); a change reloads the slots the routes read.
import type { FeatureModule } from '../feature.ts';
import { registerSecretRoutes } from './routes.ts';
import { SecretsService } from './service.ts';

export const secretsFeature: FeatureModule<SecretsService> = {
  name: 'secrets',
  create: (k) => {
    const secrets = new SecretsService(k.secretStore);
    secrets.onChange(() => k.slots.reload());
    return secrets;
  },
  routes: (app, secrets) => registerSecretRoutes(app, secrets),
};
