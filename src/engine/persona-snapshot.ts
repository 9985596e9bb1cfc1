// A session's persona binding (api-core §9, concepts §4.8): an immutable snapshot copied from the
// persona record at bind time into `sessions.persona`, so later edits or deletion of the record
// never change the session, and a restart restores it with the session row. Session surfaces show
// only the compact summary, never the soul.
import type { SessionRow } from '../store/repos/sessions.ts';
import type { CapabilityScopeLists } from './capability-scope.ts';

/** One default skill resolved at bind time: its rendered inline activation, frozen. */
export interface FrozenSkill {
  name: string;
  digest: string;
  /** The inline activation as the skills feature renders it (the ActiveSkill shape). */
  active_skill: Record<string, unknown> & { name: string; instructions: string };
}

export interface PersonaSnapshot {
  persona_id: string;
  persona_version: number;
  display_name: string;
  bound_at_ms: number;
  soul: string;
  /** sha256 of the captured soul (the spec leaves the field name open). */
  soul_digest: string;
  capability_scope: CapabilityScopeLists | null;
  default_skills: string[];
  default_inline_skills: FrozenSkill[];
}

export interface PersonaSummary {
  persona_id: string;
  persona_version: number;
  display_name: string;
  bound_at_ms: number;
}

export function personaSnapshotOf(session: Pick<SessionRow, 'persona'>): PersonaSnapshot | null {
  return session.persona ? (JSON.parse(session.persona) as PersonaSnapshot) : null;
}

export function personaSummary(snapshot: PersonaSnapshot | null): PersonaSummary | undefined {
  if (!snapshot) return undefined;
  return {
    persona_id: snapshot.persona_id,
    persona_version: snapshot.persona_version,
    display_name: snapshot.display_name,
    bound_at_ms: snapshot.bound_at_ms,
  };
}
