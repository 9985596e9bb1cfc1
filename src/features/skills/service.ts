// The skills service: the startup registry, session visibility (capability scope), the active
// inline set (durable, migration 0017) and the prompt sections every model call of a session gets.
// Activation happens only through the list_skills / use_skill tools (src/tools/control/skills.ts).
import type { Logger } from 'pino';
import type { Engine } from '../../engine/engine.ts';
import { type FrozenSkill, personaSnapshotOf } from '../../engine/persona-snapshot.ts';
import { appendTraces } from '../../engine/traces.ts';
import { DaemonError, errors } from '../../errors/daemon-error.ts';
import { getRun, type RunRow } from '../../store/repos/runs.ts';
import { getSession, type SessionRow } from '../../store/repos/sessions.ts';
import {
  getSkillActivation,
  skillActivationsOf,
  upsertSkillActivation,
} from '../../store/repos/skill-activations.ts';
import type { ListSkillsInput, SkillToolHost, UseSkillInput } from '../../tools/control/skills.ts';
import type { ToolContext } from '../../tools/registry.ts';
import type { AgentsService } from '../agents/service.ts';
import type { SkillDefinition } from './definition.ts';
import { forkSkill } from './fork.ts';
import type { SkillRegistry } from './registry.ts';
import { argsText, renderActivation, renderCatalog } from './render.ts';
import type { SkillSummaryView, SkillView } from './schema.ts';
import { matchTools, type SkillFilter, sessionSkillFilter } from './visibility.ts';

/** What an inline activation keeps (the `active_skill` of use_skill, and the stored row). */
export interface ActiveSkill
  extends Pick<
    SkillDefinition,
    'name' | 'description' | 'when_to_use' | 'version' | 'skill_path' | 'skill_root' | 'digest'
  > {
  context: 'inline';
  args?: string;
  allowed_tools: string[];
  blocked_tools: string[];
  activation_reason?: string;
  activated_at_ms: number;
  run_id: string;
  /** The rendered text given to the model at every later call of the session. */
  instructions: string;
}

export const skillNotFound = (name: string) =>
  new DaemonError(404, 'skills', 'skill_not_found', `skill ${name} was not found`);

/** The inline-only shape: a skill declaring child overrides must run as a fork (reference rule). */
function inlineRefusal(skill: SkillDefinition): string | null {
  const r = skill.runtime;
  if (r.context === 'fork') return `skill \`${skill.name}\` declares context fork; it runs as a child agent`;
  const overrides = (['agent_profile', 'provider', 'model', 'fallback_model'] as const).filter((k) => r[k]);
  return overrides.length
    ? `skill \`${skill.name}\` declares ${overrides.join(', ')}, which need context fork`
    : null;
}

export class SkillsService implements SkillToolHost {
  readonly registry: SkillRegistry;
  readonly engine: Engine;
  readonly agents: AgentsService;
  /** The longest a waited fork may take (stays under the tool timeout). */
  readonly maxWaitMs: () => number;

  constructor(engine: Engine, registry: SkillRegistry, agents: AgentsService, maxWaitMs: () => number) {
    this.engine = engine;
    this.registry = registry;
    this.agents = agents;
    this.maxWaitMs = maxWaitMs;
  }

  private get db() {
    return this.engine.store.db;
  }

  /** Loader warnings go to the log once, at startup (they are also in GET /v1/runtime). */
  logWarnings(log: Logger): void {
    for (const w of this.registry.warnings) log.warn({ skill_path: w.path }, `skill loader: ${w.message}`);
    // Nothing to say on a daemon without skills (its first lines are kept for real problems).
    if (this.registry.size === 0) return;
    log.info(
      { skills: this.registry.size, roots: this.registry.roots.map((r) => `${r.scope}:${r.path}`) },
      'skills loaded',
    );
  }

  summary(s: SkillDefinition): SkillSummaryView {
    return {
      name: s.name,
      description: s.description,
      ...(s.when_to_use !== undefined ? { when_to_use: s.when_to_use } : {}),
      ...(s.version !== undefined ? { version: s.version } : {}),
      skill_path: s.skill_path,
      skill_root: s.skill_root,
      scope: s.scope,
      digest: s.digest,
      runtime: { ...s.runtime },
    };
  }

  list(query?: string): SkillSummaryView[] {
    return this.registry.list(query).map((s) => this.summary(s));
  }

  get(name: string): SkillView {
    const s = this.registry.get(name);
    if (!s) throw skillNotFound(name);
    return { ...this.summary(s), instructions: s.instructions };
  }

  runtimeView() {
    return {
      roots: this.registry.roots.map((r) => ({ path: r.path, scope: r.scope })),
      count: this.registry.size,
      warnings: this.registry.warnings.map((w) => ({ ...w })),
    };
  }

  private async session(id: string): Promise<SessionRow> {
    const s = await getSession(this.db, id);
    if (!s) throw errors.sessionNotFound(id);
    return s;
  }

  /**
   * The session's active inline set = the persona's default skills (frozen at bind) ∪ the
   * session's own activations (which replace a default of the same name), each still in the
   * catalog and visible to the session. Defaults first, then activation order.
   */
  private async active(session: SessionRow, visible: SkillFilter): Promise<ActiveSkill[]> {
    const own = (await skillActivationsOf(this.db, session.session_id)).map(
      (r) => JSON.parse(r.snapshot) as ActiveSkill,
    );
    const ownNames = new Set(own.map((a) => a.name));
    const defaults = (personaSnapshotOf(session)?.default_inline_skills ?? [])
      .map((f) => f.active_skill as unknown as ActiveSkill)
      .filter((a) => !ownNames.has(a.name));
    return [...defaults, ...own].filter((a) => visible(a.name) && this.registry.get(a.name) !== undefined);
  }

  /** Persona default skills: only catalog skills that can run inline (checked at create/update). */
  defaultSkillProblem(names: string[]): string | null {
    const unknown = names.filter((n) => !this.registry.get(n));
    if (unknown.length)
      return `default_skills names skills that are not in the catalog: ${unknown.join(', ')}`;
    for (const n of names) {
      const refusal = inlineRefusal(this.registry.get(n)!);
      if (refusal) return `default_skills are inline activations; ${refusal}`;
    }
    return null;
  }

  /** Renders the default skills as inline activations at bind time (the frozen part of a binding). */
  resolveDefaults(names: string[], boundAtMs: number): FrozenSkill[] {
    const tools = this.engine.tools.list().map((t) => t.name);
    const out: FrozenSkill[] = [];
    for (const name of names) {
      const skill = this.registry.get(name);
      // A skill removed from disk (or made fork-only) since the persona was saved is left out.
      if (!skill || inlineRefusal(skill)) continue;
      const active = this.activeSkill(skill, null, tools, undefined, boundAtMs, '');
      out.push({ name, digest: skill.digest, active_skill: { ...active } });
    }
    return out;
  }

  private activeSkill(
    skill: SkillDefinition,
    args: string | null,
    surface: string[],
    reason: string | undefined,
    at: number,
    runId: string,
  ): ActiveSkill {
    const tools = {
      allowed: matchTools(skill.runtime.allowed_tools, surface),
      blocked: matchTools(skill.runtime.blocked_tools, surface),
    };
    return {
      name: skill.name,
      description: skill.description,
      ...(skill.when_to_use !== undefined ? { when_to_use: skill.when_to_use } : {}),
      ...(skill.version !== undefined ? { version: skill.version } : {}),
      skill_path: skill.skill_path,
      skill_root: skill.skill_root,
      digest: skill.digest,
      context: 'inline',
      ...(args !== null ? { args } : {}),
      allowed_tools: tools.allowed,
      blocked_tools: tools.blocked,
      ...(reason ? { activation_reason: reason } : {}),
      activated_at_ms: at,
      run_id: runId,
      instructions: renderActivation(skill, args, 'inline', tools),
    };
  }

  /** GET /v1/sessions/{id}/skills: the visible subset, each marked active or not. */
  async sessionSkills(sessionId: string, query?: string): Promise<SkillSummaryView[]> {
    const session = await this.session(sessionId);
    const visible = await sessionSkillFilter(this.db, session);
    const active = new Set((await this.active(session, visible)).map((a) => a.name));
    return this.registry
      .list(query)
      .filter((s) => visible(s.name))
      .map((s) => ({ ...this.summary(s), active: active.has(s.name) }));
  }

  /** The tools a run may call (its agent's surface), null for all registered. */
  private async surfaceOf(run: RunRow): Promise<string[]> {
    const surface = await this.engine.toolSurfaceFor(run);
    return this.engine.tools
      .list()
      .map((t) => t.name)
      .filter((t) => !surface || surface.has(t));
  }

  /**
   * The prompt sections of a model call: the catalog (when the agent can use skills at all) and
   * the active inline skills' instructions, in activation order.
   */
  async promptParts(run: RunRow): Promise<string[]> {
    if (this.registry.size === 0) return [];
    const session = await getSession(this.db, run.session_id);
    if (!session) return [];
    const visible = await sessionSkillFilter(this.db, session);
    const parts: string[] = [];
    const tools = await this.surfaceOf(run);
    if (tools.includes('use_skill') || tools.includes('list_skills')) {
      const catalog = renderCatalog(this.registry.list().filter((s) => visible(s.name)));
      if (catalog) parts.push(catalog);
    }
    const active = await this.active(session, visible);
    if (active.length) parts.push(['# Active Skills', ...active.map((a) => a.instructions)].join('\n\n'));
    return parts;
  }

  // ---------------------------------------------------------------- the tools

  /** A skill the calling session may see, else the same error as a name that does not exist. */
  private async visibleSkill(ctx: ToolContext, name: string) {
    const session = await this.session(ctx.session_id);
    const skill = this.registry.get(name);
    if (!skill || !(await sessionSkillFilter(this.db, session))(name))
      throw new Error(`unknown skill \`${name}\`; call list_skills for the skills available here`);
    return skill;
  }

  async listSkills(ctx: ToolContext, input: ListSkillsInput) {
    const skills = await this.sessionSkills(ctx.session_id, input.query);
    return { skills, count: skills.length };
  }

  async useSkill(ctx: ToolContext, input: UseSkillInput) {
    const skill = await this.visibleSkill(ctx, input.name);
    const run = await getRun(this.db, ctx.run_id);
    if (!run) throw errors.runNotFound(ctx.run_id);
    const context = input.context ?? skill.runtime.context;
    const args = argsText(input.args);
    // A daemon-owned skill (a promoted procedure) is checked against its record first.
    const source = this.registry.sourceOf(skill.name);
    const prepared = source && context === 'fork' ? await source.prepareUse(skill, ctx) : {};
    if (context === 'fork') return forkSkill(this, ctx, run, skill, args, input, prepared.worktree_path);
    const refusal = inlineRefusal(skill);
    if (refusal) throw new Error(refusal);
    const active = this.activeSkill(
      skill,
      args,
      await this.surfaceOf(run),
      input.reason,
      Date.now(),
      ctx.run_id,
    );
    // The row and the step trace commit together: the stream shows exactly what became active.
    // The same call run again (after a crash, before its result was recorded) finds its own row.
    const stored = await this.engine.store.write(async (tx) => {
      const own = await getSkillActivation(tx.db, ctx.session_id, skill.name);
      if (own?.run_id === ctx.run_id && own.tool_call_id === ctx.tool_call_id)
        return JSON.parse(own.snapshot) as ActiveSkill;
      active.activated_at_ms = tx.now;
      await upsertSkillActivation(tx.db, {
        session_id: ctx.session_id,
        name: skill.name,
        digest: skill.digest,
        run_id: ctx.run_id,
        tool_call_id: ctx.tool_call_id,
        activated_at_ms: tx.now,
        snapshot: JSON.stringify(active),
      });
      await appendTraces(this.engine.events, tx, ctx, [
        {
          kind: 'skill_activated',
          name: skill.name,
          mode: 'inline',
          digest: skill.digest,
          scope: skill.scope,
          tool_call_id: ctx.tool_call_id,
          ...(input.reason ? { reason: input.reason } : {}),
        },
      ]);
      return active;
    });
    return { action: 'activate', mode: 'inline', name: skill.name, active_skill: stored };
  }
}
