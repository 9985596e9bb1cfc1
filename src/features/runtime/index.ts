// Probes, status, capabilities and runtime settings (ops-runtime §3–§4). The persisted settings
// are applied at creation, before any run is recovered.
import type { AgentsService } from '../agents/service.ts';
import type { FeatureModule } from '../feature.ts';
import type { SchedulesFeature } from '../schedules/index.ts';
import { registerRuntimeRoutes } from './routes.ts';
import { RuntimeService } from './service.ts';

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
    return runtime;
  },
  routes: (app, runtime, k) => registerRuntimeRoutes(app, runtime, k.events),
  prepare: (runtime) => runtime.settings.load(),
};
