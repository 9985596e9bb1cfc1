// The learning plane (api-collab §4.1–4.5, concepts §4.10): candidates, published learnings, the
// automation policy (runtime setting `learning_policy`), automatic review and daemon capture.
// Run memory (the memory feature) is used lazily: semantic capture hangs on its records and
// verification reads them; without it, semantic capture is off and active verification fails.
// Promoted procedural skills live in the learning-skills feature, over `LearningsFeature`.
import type { FeatureModule, Kernel } from '../feature.ts';
import type { RunMemoryPort } from '../memory/port.ts';
import { MEMORY_FEATURE } from '../memory/port.ts';
import type { RuntimeService } from '../runtime/service.ts';
import { Automation } from './automation.ts';
import { captureRunSummary, SemanticCapture } from './capture.ts';
import { LearningLifecycle, type RetiredListener } from './lifecycle.ts';
import { engineModelCaller, type ModelCaller } from './model-call.ts';
import { LEARNINGS_FEATURE, type LearningsPort } from './port.ts';
import type { LearningView } from './repo.ts';
import { registerLearningRoutes } from './routes.ts';
import { CandidatesService } from './service.ts';

export type { RetireChange, RetiredListener } from './lifecycle.ts';
export type { LearningView } from './repo.ts';

/**
 * The service other features get from `k.use('learnings')`: the LearningsPort (memory ranks
 * `liveInScopes`), plus what promoted skills need (`learning`, `onRetired`); the parts follow.
 */
export interface LearningsFeature extends LearningsPort {
  /** A learning by id, or null. */
  learning(id: string): Promise<LearningView | null>;
  /** Called after commit when a learning is revoked or superseded (errors are logged). */
  onRetired(listener: RetiredListener): void;
  candidates: CandidatesService;
  learnings: LearningLifecycle;
  automation: Automation;
  runtime: RuntimeService;
  /** Set in prepare when the memory feature is present. */
  semantic: SemanticCapture | null;
  sweep: ReturnType<typeof setInterval> | null;
  kernel: Kernel;
  model: ModelCaller;
}

/** The memory feature's port, or null while this build has none. */
function memoryOf(k: Kernel): RunMemoryPort | null {
  try {
    return k.use<RunMemoryPort>(MEMORY_FEATURE);
  } catch (e) {
    // Only its absence is expected; a memory feature that fails to build is a real error.
    if (/no feature named/.test((e as Error).message)) return null;
    throw e;
  }
}

/** How often expired learnings are written `expired` and stale run summaries dropped. */
const SWEEP_MS = 60_000;

export function createLearnings(
  k: Kernel,
  model: ModelCaller = engineModelCaller(k.engine),
): LearningsFeature {
  const runtime = k.use<RuntimeService>('runtime');
  const candidates = new CandidatesService(k.engine, k.log);
  const learnings = new LearningLifecycle(k.store, candidates.events, k.log);
  candidates.lifecycle = learnings;
  let memory: RunMemoryPort | null | undefined;
  const memoryPort = () => {
    if (memory === undefined) memory = memoryOf(k);
    return memory;
  };
  const automation = new Automation(candidates, learnings, model, memoryPort);
  candidates.review = (id) => automation.review(id);
  const f: LearningsFeature = {
    liveInScopes: (scopes, nowMs) => learnings.liveInScopes(scopes, nowMs),
    learning: (id) => learnings.find(id),
    onRetired: (listener) => learnings.onRetired(listener),
    candidates,
    learnings,
    automation,
    runtime,
    semantic: null,
    sweep: null,
    kernel: k,
    model,
  };
  runtime.settings.define<unknown>('learning_policy', {
    apply: (value) => {
      const before = candidates.policy().mode;
      candidates.applyPolicy(value);
      // Switching automation on reviews what waited while it was off.
      if (before === 'manual_only' && candidates.policy().mode !== 'manual_only')
        automation.track(automation.scan());
    },
  });
  runtime.addRuntimeSection('learning_policy', () => candidates.policy());
  k.engine.onRunChange((tx, run) => captureRunSummary(candidates, automation, tx, run));
  return f;
}

export const learningsFeature: FeatureModule<LearningsFeature> = {
  name: LEARNINGS_FEATURE,
  create: (k) => createLearnings(k),
  routes: (app, f) => registerLearningRoutes(app, f),
  prepare: async (f) => {
    // Resolved after every feature is built (the memory feature may come later in the list).
    const memory = memoryOf(f.kernel);
    if (memory) {
      const semantic = new SemanticCapture(f.candidates, f.automation, f.model, memory);
      f.semantic = semantic;
      // A receipt starts pending only while semantic capture is on, so a run with it off costs no
      // extra commit to settle (decision 443).
      memory.wantSemanticCapture(() => f.candidates.policy().capture.semantic_candidates.enabled);
      memory.onRecorded((record) => f.automation.track(semantic.capture(record)));
    }
  },
  start: (f) => {
    const sweep = async () => {
      await f.learnings.sweepExpired();
      await f.candidates.pruneStaleRunSummaries();
    };
    f.automation.track(sweep());
    f.automation.track(f.automation.scan());
    if (f.semantic) f.automation.track(f.semantic.replay());
    f.sweep = setInterval(() => f.automation.track(sweep()), SWEEP_MS);
    f.sweep.unref();
  },
  stop: (f) => {
    if (f.sweep) clearInterval(f.sweep);
  },
  shutdown: (f) => f.automation.drain(),
};
