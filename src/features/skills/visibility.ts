// Capability scope for skills (concepts §4.4): an empty allow list admits everything, `*` admits
// everything, deny wins; entries match exactly (no globbing). Without personas in this daemon the
// effective scope is the session's own.
import type { SessionRow } from '../../store/repos/sessions.ts';
import type { CapabilityScope } from '../sessions/schema.ts';

export type SkillFilter = (name: string) => boolean;

export function skillFilter(scope: CapabilityScope | null): SkillFilter {
  const allow = scope?.skill_allow ?? [];
  const deny = scope?.skill_deny ?? [];
  return (name) =>
    (allow.length === 0 || allow.includes('*') || allow.includes(name)) &&
    !(deny.includes('*') || deny.includes(name));
}

export const sessionSkillFilter = (session: SessionRow): SkillFilter =>
  skillFilter(session.capability_scope ? (JSON.parse(session.capability_scope) as CapabilityScope) : null);

/** Tool names matching any of `patterns` (exact, `prefix*` or `*`), in `tools` order. */
export function matchTools(patterns: string[], tools: string[]): string[] {
  return tools.filter((t) =>
    patterns.some((p) => p === '*' || p === t || (p.endsWith('*') && t.startsWith(p.slice(0, -1)))),
  );
}
