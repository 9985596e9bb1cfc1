// Debug capture (issue 13): the run debug store, the engine's capture port, the debug routes, and
// the checks that keep `POST /v1/runtime/debug-level` from enabling capture that could not protect
// its evidence. Lives beside the runtime feature, reached through its service.
import { DaemonError } from '../../errors/daemon-error.ts';
import type { AssetsPort } from '../assets/port.ts';
import type { FeatureModule } from '../feature.ts';
import type { RuntimeService } from '../runtime/service.ts';
import type { ConfigChange } from '../runtime/settings.ts';
import { DebugCapture } from './capture.ts';
import { debugConfigFromEnv } from './config.ts';
import { DebugStore } from './debug-store.ts';
import { registerDebugRoutes } from './routes.ts';
import { DebugService } from './service.ts';

export const debugFeature: FeatureModule<DebugService> = {
  name: 'debug',
  create: (k) => {
    const config = debugConfigFromEnv();
    const store = new DebugStore(k.store, config.budgets, config.key);
    const service = new DebugService(k.store, store, config, k.log);
    service.assets = k.use<AssetsPort>('assets');
    const runtime = k.use<RuntimeService>('runtime');
    const level = () => runtime.settings.value<string>('debug_level');
    service.level = () => level() ?? 'off';
    k.engine.debugCapture = new DebugCapture({
      level,
      store,
      secrets: () => k.engine.secretValues(),
      tokens: config.tokens,
      log: k.log,
    });
    runtime.settings.addGate(async (change) => {
      const wanted = levelAfter(change, runtime);
      if (wanted !== undefined) refuseUnprotected(wanted, service);
      return null;
    });
    runtime.addRuntimeSection('debug_capture', () => service.policyView());
    runtime.addStatusSection('debug', () => service.statusView());
    return service;
  },
  routes: (app, service) => registerDebugRoutes(app, service),
  // After the runtime feature loaded the persisted level (it is earlier in the list).
  prepare: async (service) => service.warnIfBlocked(),
  start: (service) => service.start(),
  stop: (service) => service.stop(),
  shutdown: (service) => service.drained(),
};

/** The debug level a change would put in force (a rollback restores its target's), if it changes it. */
function levelAfter(change: ConfigChange, runtime: RuntimeService): string | undefined {
  if (change.setting === 'debug_level') return String(change.value);
  if (change.setting !== 'rollback' || change.rollback_of_revision === undefined) return undefined;
  const target = runtime.settings.record.history.find((h) => h.revision === change.rollback_of_revision);
  return (target?.settings?.debug_level as string | undefined) ?? undefined;
}

/** 400 when a level needs a key or a token file the daemon cannot use (decision #151). */
function refuseUnprotected(level: string, service: DebugService): void {
  const problem = service.blocker(level);
  if (problem) throw new DaemonError(400, 'runtime', problem.code, problem.detail);
}
