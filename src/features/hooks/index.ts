// Hooks (ops-runtime §7): daemon-configured interceptors of runtime events. The service installs
// the dispatcher as the engine's hook port and defines the `hooks` runtime setting; the engine and
// the other features fire events through that port (docs/hooks.md lists where).
import type { FeatureModule } from '../feature.ts';
import { fireLifecycleHooks } from './lifecycle.ts';
import { wrapPromptContexts } from './prompt-contexts.ts';
import { registerHookRoutes } from './routes.ts';
import { HooksService } from './service.ts';

export type { HooksService } from './service.ts';

export const hooksFeature: FeatureModule<HooksService> = {
  name: 'hooks',
  create: (k) => {
    const hooks = new HooksService(k);
    wrapPromptContexts(k.engine);
    fireLifecycleHooks(k.engine);
    return hooks;
  },
  routes: (app, hooks) => registerHookRoutes(app, hooks),
  start: (hooks) => {
    // Not awaited: a slow setup hook must not hold the daemon's start.
    void hooks.fireSetup().catch(() => undefined);
  },
};
