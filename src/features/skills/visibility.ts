// Capability scope for skills (concepts §4.4, ops-runtime §5.4): an empty allow list admits
// everything, `*` admits everything, deny wins. What a session sees is its effective scope (persona
// baseline ∩ its own ∩ its parent agents'), computed in one place: src/engine/capability-scope.ts.
import { effectiveCapabilityScope, entryMatches, skillAdmitted } from '../../engine/capability-scope.ts';
import type { SessionRow } from '../../store/repos/sessions.ts';
import type { Executor } from '../../store/schema.ts';
import type { CapabilityScope } from '../sessions/schema.ts';

export type SkillFilter = (name: string) => boolean;

export function skillFilter(scope: CapabilityScope | null): SkillFilter {
  return (name) => skillAdmitted(scope, name);
}

export const sessionSkillFilter = async (db: Executor, session: SessionRow): Promise<SkillFilter> =>
  skillFilter(await effectiveCapabilityScope(db, session));

/** Tool names matching any of `patterns` (exact, `prefix*` or `*`), in `tools` order. */
export function matchTools(patterns: string[], tools: string[]): string[] {
  return tools.filter((t) => patterns.some((p) => entryMatches(p, t)));
}
