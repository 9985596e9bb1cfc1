// Recovered run memory and memory search (concepts §4.9, api-core §3.5, docs/memory.md). Memory
// records terminal runs, adds `recovered_memory` and `learned_context` after the skills' prompt
// parts (listed after skills in src/features/index.ts), and serves the session memory views.
// Learnings and skills are asked lazily, at use: learnings uses this feature's port when it is
// created.
import type { FeatureModule, Kernel } from '../feature.ts';
import { LEARNINGS_FEATURE, type LearningsPort } from '../learnings/port.ts';
import type { RuntimeService } from '../runtime/service.ts';
import type { SkillsService } from '../skills/port.ts';
import { MEMORY_FEATURE } from './port.ts';
import { MemoryPrompt } from './prompt.ts';
import { registerMemoryRoutes } from './routes.ts';
import { MemoryService } from './service.ts';
import type { ViewPorts } from './views.ts';

/** Another feature's service, or null when this build has no such feature. */
function optional<S>(k: Kernel, name: string): () => S | null {
  let resolved: S | null | undefined;
  return () => {
    if (resolved === undefined) {
      try {
        resolved = k.use<S>(name);
      } catch (e) {
        // Only its absence is expected; a feature that fails to build is a real error.
        if (!/no feature named/.test((e as Error).message)) throw e;
        resolved = null;
      }
    }
    return resolved;
  };
}

interface Memory {
  service: MemoryService;
  ports: ViewPorts;
  timer: NodeJS.Timeout | null;
}

/** Age pruning between boots (read-time expiry covers the gaps). */
const PRUNE_EVERY_MS = 10 * 60_000;

export const memoryFeature: FeatureModule<MemoryService> = {
  name: MEMORY_FEATURE,
  create: (k) => {
    const runtime = k.use<RuntimeService>('runtime');
    const service = new MemoryService(k.engine, runtime, k.log);
    const learnings = optional<LearningsPort>(k, LEARNINGS_FEATURE);
    const prompt = new MemoryPrompt(service, learnings);
    const base = k.engine.systemPromptFor;
    k.engine.systemPromptFor = async (run) => [...(await base(run)), ...(await prompt.partsFor(run))];
    runtime.addRuntimeSection('run_memory_policy', () => service.policyView());
    runtime.addStatusSection('run_memory', () => service.statusView());
    runtime.addStatusSection('session_memory', () => service.sessionStatusView());
    runtime.addHealthWarnings(() =>
      service.maintenance.scan_error_count + service.maintenance.prune_error_count > 0
        ? [
            {
              severity: 'warning' as const,
              code: 'run_memory_maintenance_errors',
              message: 'recovered run memory repair or pruning failed; see /v1/status.run_memory.maintenance',
              action: 'check the database; the next prune retries',
            },
          ]
        : [],
    );
    state.set(service, {
      service,
      ports: { learnings, skills: optional<SkillsService>(k, 'skills') },
      timer: null,
    });
    return service;
  },
  routes: (app, service) => registerMemoryRoutes(app, service, state.get(service)!.ports),
  prepare: (service) => service.repair(),
  start: (service) => {
    const s = state.get(service)!;
    s.timer = setInterval(() => void service.prune('timer'), PRUNE_EVERY_MS);
    s.timer.unref();
  },
  stop: (service) => {
    const s = state.get(service);
    if (s?.timer) clearInterval(s.timer);
  },
};

const state = new WeakMap<MemoryService, Memory>();
