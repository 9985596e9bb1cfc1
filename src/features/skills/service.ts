// The skills service: the startup registry, session visibility (capability scope), the active
// inline set (durable, migration 0017) and the prompt sections every model call of a session gets.
// Activation happens only through the list_skills / use_skill tools (src/tools/control/skills.ts).
import type { Logger } from 'pino';
import type { Engine } from '../../engine/engine.ts';
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

  /** The session's active inline skills still in the catalog and visible to it. */
  private async active(session: SessionRow, visible: SkillFilter): Promise<ActiveSkill[]> {
    const rows = await skillActivationsOf(this.db, session.session_id);
    return rows
      .filter((r) => visible(r.name) && this.registry.get(r.name) !== undefined)
      .map((r) => JSON.parse(r.snapshot) as ActiveSkill);
  }

  /** GET /v1/sessions/{id}/skills: the visible subset, each marked active or not. */
  async sessionSkills(sessionId: string, query?: string): Promise<SkillSummaryView[]> {
    const session = await this.session(sessionId);
    const visible = sessionSkillFilter(session);
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
    const visible = sessionSkillFilter(session);
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
    if (!skill || !sessionSkillFilter(session)(name))
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
    if (context === 'fork') return forkSkill(this, ctx, run, skill, args, input);
    const refusal = inlineRefusal(skill);
    if (refusal) throw new Error(refusal);
    const surface = await this.surfaceOf(run);
    const tools = {
      allowed: matchTools(skill.runtime.allowed_tools, surface),
      blocked: matchTools(skill.runtime.blocked_tools, surface),
    };
    const active: ActiveSkill = {
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
      ...(input.reason ? { activation_reason: input.reason } : {}),
      activated_at_ms: Date.now(),
      run_id: ctx.run_id,
      instructions: renderActivation(skill, args, 'inline', tools),
    };
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
