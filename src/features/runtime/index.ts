// Probes, status, capabilities and runtime settings (ops-runtime §3–§4). The persisted settings
// are applied at creation, before any run is recovered.
import type { AgentsService } from '../agents/service.ts';
import type { FeatureModule } from '../feature.ts';
import type { SchedulesFeature } from '../schedules/index.ts';
import type { SecretsService } from '../secrets/service.ts';
import { type SystemPromptSettings, systemPromptParts } from './core-settings.ts';
import { registerRuntimeRoutes } from './routes.ts';
import { RuntimeService } from './service.ts';
import { registerSettingsRoutes } from './settings-routes.ts';

export const runtimeFeature: FeatureModule<RuntimeService> = {
  name: 'runtime',
  create: (k) => {
    const runtime = new RuntimeService(k.engine, {
      stateRoot: k.config.stateRoot,
      workspaceRoot: k.config.workspaceRoot,
      lockOwner: k.lockOwner,
      startedAtMs: k.startedAtMs,
      authEnabled: k.authEnabled,
      scheduler: k.use<SchedulesFeature>('schedules').scheduler,
      replica: k.replica,
      slots: k.slots,
    });
    // Slot writes go through the secrets feature, which reloads the route slots after each one.
    runtime.liveRoutes.writer = () => {
      const secrets = k.use<SecretsService>('secrets');
      return {
        put: (record) => secrets.put(record),
        delete: (slot) => secrets.delete(slot),
        exists: async (slot) => (await secrets.store.status(slot)) !== undefined,
      };
    };
    k.use<SecretsService>('secrets').addReferenceCheck((slot) => runtime.liveRoutes.referencesTo(slot));
    runtime.agents = k.use<AgentsService>('agents');
    const base = k.engine.systemPromptFor;
    k.engine.systemPromptFor = async (run) => [
      ...(await base(run)),
      ...systemPromptParts(runtime.settings.value<SystemPromptSettings>('system_prompt')),
    ];
    return runtime;
  },
  routes: (app, runtime, k) => {
    registerRuntimeRoutes(app, runtime, k.events);
    registerSettingsRoutes(app, runtime);
  },
  prepare: async (runtime) => {
    await runtime.settings.load();
    // Runtime-added routes read their keys before any run is recovered or submitted.
    await runtime.liveRoutes.settled();
  },
};
