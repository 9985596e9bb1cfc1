// Skills (docs/skills.md): the registry is discovered once at creation (explicit roots, the
// workspace's ancestors, the user's home), the tools are registered, and the prompt decorator adds
// the catalog and the active inline skills after the earlier features' parts.
import { homedir } from 'node:os';
import { registerSkillTools } from '../../tools/control/skills.ts';
import type { AgentsService } from '../agents/service.ts';
import type { FeatureModule } from '../feature.ts';
import type { PersonasService } from '../personas/service.ts';
import type { RuntimeService } from '../runtime/service.ts';
import { discoverRoots, SkillRegistry } from './registry.ts';
import { registerSkillRoutes } from './routes.ts';
import { SkillsService } from './service.ts';

export const skillsFeature: FeatureModule<SkillsService> = {
  name: 'skills',
  create: (k) => {
    const roots = discoverRoots(
      k.config.skillRoots,
      k.config.workspaceRoot ?? process.cwd(),
      process.env.HOME || homedir() || undefined,
    );
    const skills = new SkillsService(
      k.engine,
      new SkillRegistry(roots),
      k.use<AgentsService>('agents'),
      () => k.toolLimits.get().max_timeout_ms - 1000,
    );
    skills.logWarnings(k.log);
    registerSkillTools(k.tools, skills);
    // Persona default skills are checked against this catalog and frozen as inline activations.
    k.use<PersonasService>('personas').defaultSkills = {
      problem: (names) => skills.defaultSkillProblem(names),
      resolve: (names, at) => skills.resolveDefaults(names, at),
    };
    const runtime = k.use<RuntimeService>('runtime');
    runtime.addRuntimeSection('skills', () => skills.runtimeView());
    const base = k.engine.systemPromptFor;
    k.engine.systemPromptFor = async (run) => [...(await base(run)), ...(await skills.promptParts(run))];
    return skills;
  },
  routes: (app, skills) => registerSkillRoutes(app, skills),
};
