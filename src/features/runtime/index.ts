// Probes, status, capabilities and runtime settings (ops-runtime §3–§4). The persisted settings
// are applied at creation, before any run is recovered.
import type { AgentsService } from '../agents/service.ts';
import type { FeatureModule } from '../feature.ts';
import type { SchedulesFeature } from '../schedules/index.ts';
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
    });
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
  prepare: (runtime) => runtime.settings.load(),
};
