// Promoted procedural skills (api-collab §4.6, docs/learning-skills.md): records in the store, skill
// files in <state_root>/skills, active ones mounted into the skills catalog through its
// SkillSource seam, source learnings read (and their revocation heard) through the learnings
// feature, resolved lazily so the two build in any order.
import type { FeatureModule } from '../feature.ts';
import type { RuntimeService } from '../runtime/service.ts';
import type { SkillsService } from '../skills/port.ts';
import { type LearningSource, resolveLearningSource } from './learning-source.ts';
import { MountedProcedures } from './mount.ts';
import { repairLearningSkills } from './repair.ts';
import { registerLearningSkillRoutes } from './routes.ts';
import { ProcedureRoots } from './run-root.ts';
import { LearningSkillsService } from './service.ts';
import { DaemonSkillRoot } from './skill-root.ts';

export const learningSkillsFeature: FeatureModule<LearningSkillsService> = {
  name: 'learning-skills',
  create: (k) => {
    const root = new DaemonSkillRoot(k.config.stateRoot);
    const workspace = k.config.workspaceRoot ?? process.cwd();
    const mounted = new MountedProcedures(k.store, root, workspace);
    // A procedure's child runs its tools in its worktree (decision 537). A daemon without a
    // workspace root gives no run file or shell tools, a procedure's child included.
    if (k.config.workspaceRoot) {
      const roots = new ProcedureRoots(k.store, workspace, k.log);
      const base = k.engine.workspaceRootFor;
      k.engine.workspaceRootFor = async (run) => (await roots.rootOf(run)) ?? base(run);
    }
    const registry = k.use<SkillsService>('skills').registry;
    registry.addSource(mounted);
    let source: LearningSource | null | undefined;
    const svc = new LearningSkillsService({
      store: k.store,
      events: k.events,
      log: k.log,
      root,
      mounted,
      learnings: () => {
        if (source === undefined) {
          const found = resolveLearningSource(k.use, k.store);
          if (found.problem)
            k.log.warn(`promoted skills cannot reach the learnings feature: ${found.problem}`);
          source = found.source;
        }
        return source;
      },
      discovered: (name) => {
        const s = registry.get(name);
        return s !== undefined && s.scope !== 'daemon';
      },
    });
    k.use<RuntimeService>('runtime').addStatusSection('learning_skills', () => ({
      skill_root: root.path,
      mounted: mounted.list().map((s) => s.name),
      learnings_feature: svc.deps.learnings() !== null,
      last_repair: svc.lastRepair,
    }));
    // A change committed by another replica (PostgreSQL) reaches this one through the event log:
    // its files and mount follow the record here too (for this replica's own changes, a no-op).
    k.events.subscribe((ev) => {
      const name = ev.name === 'learning_skill_updated' ? ev.data.skill_name : undefined;
      if (typeof name === 'string')
        svc
          .refresh(name)
          .catch((err: Error) => k.log.warn({ skill: name }, `promoted skill refresh: ${err.message}`));
    });
    return svc;
  },
  routes: (app, svc) => registerLearningSkillRoutes(app, svc),
  // After every feature is built (the learnings feature may come later in the list), before runs resume.
  prepare: async (svc) => {
    svc.deps.learnings()?.onLearningEnded((tx, ended) => svc.learningEnded(tx, ended));
    svc.lastRepair = await repairLearningSkills(svc, svc.deps.log);
  },
};
