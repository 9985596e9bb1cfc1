// Persona records and their snapshots (api-core §9, concepts §4.8). A record is a mutable template
// whose version grows with every update; binding copies it into an immutable snapshot (soul,
// capability baseline, resolved default skills, version) that the session keeps whatever happens
// to the record later, deletion included. The sessions feature stores the snapshot; this service
// makes it and renders the persona system-prompt section.
import { createHash } from 'node:crypto';
import { monotonicFactory } from 'ulid';
import { normalizeScope } from '../../engine/capability-scope.ts';
import type { Engine } from '../../engine/engine.ts';
import type { FrozenSkill, PersonaSnapshot } from '../../engine/persona-snapshot.ts';
import { personaSnapshotOf } from '../../engine/persona-snapshot.ts';
import { DaemonError } from '../../errors/daemon-error.ts';
import {
  deletePersona,
  getPersona,
  insertPersona,
  listPersonas,
  type PersonaRow,
  updatePersona,
} from '../../store/repos/personas.ts';
import { getSession } from '../../store/repos/sessions.ts';
import type { Executor } from '../../store/schema.ts';
import type { CapabilityScope } from '../sessions/schema.ts';
import type {
  CreatePersonaRequest,
  PersonaSummaryView,
  PersonaView,
  UpdatePersonaRequest,
} from './schema.ts';

const ulid = monotonicFactory();

export const personaNotFound = (id: string) =>
  new DaemonError(404, 'personas', 'persona_not_found', `persona ${id} was not found`);

const invalid = (detail: string) => new DaemonError(400, 'personas', 'invalid_persona', detail);

/** How default skills are checked and frozen: installed by the skills feature (built after this one). */
export interface DefaultSkillResolver {
  /** Why these names cannot be default inline skills, or null when they all can. */
  problem(names: string[]): string | null;
  /** The inline activations of the names still in the catalog, rendered now. */
  resolve(names: string[], boundAtMs: number): FrozenSkill[];
}

/** Same rule as session ids: they appear in URL paths, logs and headers. */
function checkId(id: string): void {
  if (id.trim() === '' || /^\.+$/.test(id) || [...id].some((c) => c === '/' || c === '\\' || c < ' '))
    throw invalid('persona_id must be non-empty, not "." or "..", without slashes or control characters');
}

const json = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v));
const names = (list: string[] | null | undefined): string[] => [...new Set(list ?? [])];

export class PersonasService {
  private readonly engine: Engine;
  /** Whether a global override prompt replaces the base prompt (which then has no persona part). */
  private readonly overridePrompt: () => boolean;
  defaultSkills: DefaultSkillResolver | null = null;

  constructor(engine: Engine, overridePrompt: () => boolean) {
    this.engine = engine;
    this.overridePrompt = overridePrompt;
  }

  private get db() {
    return this.engine.store.db;
  }

  summary(r: PersonaRow): PersonaSummaryView {
    return {
      persona_id: r.persona_id,
      display_name: r.display_name,
      version: r.version,
      created_at_ms: r.created_at_ms,
      updated_at_ms: r.updated_at_ms,
    };
  }

  view(r: PersonaRow): PersonaView {
    return {
      ...this.summary(r),
      soul: r.soul,
      ...(r.capability_scope ? { capability_scope: JSON.parse(r.capability_scope) as CapabilityScope } : {}),
      default_skills: r.default_skills ? (JSON.parse(r.default_skills) as string[]) : [],
      ...(r.metadata ? { metadata: JSON.parse(r.metadata) as Record<string, unknown> } : {}),
    };
  }

  private checkSkills(list: string[]): void {
    if (!list.length || !this.defaultSkills) return;
    const problem = this.defaultSkills.problem(list);
    if (problem) throw invalid(problem);
  }

  async create(body: CreatePersonaRequest): Promise<PersonaView> {
    const id = body.persona_id ?? `persona-${ulid().toLowerCase()}`;
    checkId(id);
    const skills = names(body.default_skills);
    this.checkSkills(skills);
    const row = await this.engine.store.write(async (tx) => {
      const created: PersonaRow = {
        persona_id: id,
        display_name: body.display_name,
        soul: body.soul,
        capability_scope: json(normalizeScope(body.capability_scope)),
        default_skills: skills.length ? JSON.stringify(skills) : null,
        metadata: json(body.metadata),
        version: 1,
        created_at_ms: tx.now,
        updated_at_ms: tx.now,
      };
      if (!(await insertPersona(tx.db, created)))
        throw new DaemonError(
          409,
          'personas',
          'persona_already_exists',
          `persona ${id} already exists; update it with PUT /v1/personas/${id}`,
        );
      return created;
    });
    return this.view(row);
  }

  async get(id: string): Promise<PersonaView> {
    const r = await getPersona(this.db, id);
    if (!r) throw personaNotFound(id);
    return this.view(r);
  }

  /** Replaces the given fields and bumps the version; bound sessions keep their snapshots. */
  async update(id: string, body: UpdatePersonaRequest): Promise<PersonaView> {
    if (Object.keys(body).length === 0)
      throw invalid('give at least one of display_name, soul, capability_scope, default_skills, metadata');
    const skills = body.default_skills === undefined ? undefined : names(body.default_skills);
    if (skills) this.checkSkills(skills);
    const row = await this.engine.store.write(async (tx) => {
      const r = await getPersona(tx.db, id);
      if (!r) throw personaNotFound(id);
      const patch: Partial<PersonaRow> = { version: r.version + 1, updated_at_ms: tx.now };
      if (body.display_name !== undefined) patch.display_name = body.display_name;
      if (body.soul !== undefined) patch.soul = body.soul;
      if (body.capability_scope !== undefined)
        patch.capability_scope = json(normalizeScope(body.capability_scope));
      if (skills !== undefined) patch.default_skills = skills.length ? JSON.stringify(skills) : null;
      if (body.metadata !== undefined) patch.metadata = json(body.metadata);
      await updatePersona(tx.db, id, patch);
      return { ...r, ...patch };
    });
    return this.view(row);
  }

  /** Deleting a record never touches bound sessions: their snapshot is self-contained. */
  async delete(id: string): Promise<{ deleted: true }> {
    const gone = await this.engine.store.write((tx) => deletePersona(tx.db, id));
    if (!gone) throw personaNotFound(id);
    return { deleted: true };
  }

  async list(q: { query?: string; after?: string; limit?: number }) {
    const { rows, total } = await listPersonas(this.db, {
      query: q.query,
      after_id: q.after,
      limit: q.limit ?? 1_000_000,
    });
    return { items: rows.map((r) => this.summary(r)), total };
  }

  /** The snapshot a binding stores, read inside the binding's transaction (404 when unknown). */
  async snapshot(db: Executor, id: string, now: number): Promise<PersonaSnapshot> {
    const r = await getPersona(db, id);
    if (!r) throw personaNotFound(id);
    const skills = r.default_skills ? (JSON.parse(r.default_skills) as string[]) : [];
    return {
      persona_id: r.persona_id,
      persona_version: r.version,
      display_name: r.display_name,
      bound_at_ms: now,
      soul: r.soul,
      soul_digest: createHash('sha256').update(r.soul).digest('hex'),
      capability_scope: r.capability_scope ? JSON.parse(r.capability_scope) : null,
      default_skills: skills,
      default_inline_skills: this.defaultSkills ? this.defaultSkills.resolve(skills, now) : [],
    };
  }

  /** The `persona` system-prompt section of a run's session (none without a soul or under an override). */
  async promptParts(sessionId: string): Promise<string[]> {
    const session = await getSession(this.db, sessionId);
    const snapshot = session ? personaSnapshotOf(session) : null;
    if (!snapshot || snapshot.soul.trim() === '' || this.overridePrompt()) return [];
    return [`# Persona: ${snapshot.display_name}\n\n${snapshot.soul}`];
  }
}
