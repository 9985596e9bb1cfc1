// What other features may use of skills besides the service: the definition format (promoted
// procedural skills write and re-read SKILL.md bundles), the digest that fingerprints one, the
// source seam through which a feature contributes skills to the registry, and the summary view.
export type { SkillDefinition } from './definition.ts';
export { parseSkill, SKILL_FILE, skillDigest } from './definition.ts';
export type { SkillSource } from './registry.ts';
export type { SkillSummaryView } from './schema.ts';
export type { SkillsService } from './service.ts';
