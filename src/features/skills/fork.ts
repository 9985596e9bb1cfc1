// A fork activation: the skill runs as a child agent of the caller (the agents feature's spawn,
// idempotent per run and tool call, so a use_skill re-run after a crash finds the child it already
// started), with the skill's profile, route, model and tool list, then is waited for.
import { appendTraces } from '../../engine/traces.ts';
import { outputsOfRun } from '../../store/repos/journal.ts';
import { consumeChildOutcome } from '../../store/repos/mailboxes.ts';
import { isTerminal, type RunRow } from '../../store/repos/runs.ts';
import type { UseSkillInput } from '../../tools/control/skills.ts';
import type { ToolContext } from '../../tools/registry.ts';
import type { SpawnSidechainRequest } from '../agents/schema.ts';
import type { SkillDefinition } from './definition.ts';
import { renderActivation } from './render.ts';
import type { SkillsService } from './service.ts';
import { matchTools } from './visibility.ts';

export const DEFAULT_FORK_WAIT_MS = 60_000;

/** The skill's provider/model/fallback_model as a route policy (raw names: no selector parsing). */
function routePolicyOf(skill: SkillDefinition): SpawnSidechainRequest['route_policy'] {
  const r = skill.runtime;
  const generation: Record<string, string> = {};
  if (r.model) generation.model = r.model;
  if (r.fallback_model) generation.fallback_model = r.fallback_model;
  if (!r.provider && Object.keys(generation).length === 0) return undefined;
  return {
    ...(r.provider ? { provider: r.provider } : {}),
    ...(Object.keys(generation).length ? { generation } : {}),
  };
}

/**
 * The child's tool allowlist: the skill's allowed tools (all when none are named) among the tools
 * a child of this caller gets anyway (parent surface and profile), minus its blocked tools. A
 * skill naming tools this agent cannot use gets the ones it can; none at all is an error.
 */
async function toolSurfaceOf(
  svc: SkillsService,
  parentAgentId: string,
  skill: SkillDefinition,
  base: SpawnSidechainRequest,
) {
  const { allowed_tools: allowed, blocked_tools: blocked } = skill.runtime;
  if (allowed.length === 0 && blocked.length === 0) return undefined;
  const dry = await svc.agents.explain(parentAgentId, base);
  const inherited: string[] | undefined = 'effective' in dry ? dry.effective.tool_surface : undefined;
  // A spawn the dry run refuses is refused again, with its own error, by the real spawn.
  if (!inherited) return undefined;
  const wanted = allowed.length ? matchTools(allowed, inherited) : inherited;
  const allowlist = wanted.filter((t) => matchTools(blocked, [t]).length === 0);
  if (allowlist.length === 0)
    throw new Error(
      `none of the tools of skill \`${skill.name}\` are available to a child of this agent (allowed_tools: ${allowed.join(', ') || '*'}; blocked_tools: ${blocked.join(', ') || '-'})`,
    );
  return { allowlist, denylist: matchTools(blocked, inherited) };
}

export async function forkSkill(
  svc: SkillsService,
  ctx: ToolContext,
  run: RunRow,
  skill: SkillDefinition,
  args: string | null,
  input: UseSkillInput,
  worktreePath?: string,
) {
  const rendered = renderActivation(skill, args, 'fork', {
    allowed: skill.runtime.allowed_tools,
    blocked: skill.runtime.blocked_tools,
  });
  // A promoted procedure's child gets its own directory under the workspace (decision 528).
  const content = worktreePath
    ? `${rendered}\n\nYour file and shell tools are rooted at ${worktreePath}, a worktree prepared for this activation: relative paths resolve there.`
    : rendered;
  const req: SpawnSidechainRequest = {
    profile: skill.runtime.agent_profile ?? 'default',
    // The skill's child is done once it settles; its runs stay inspectable (launch_run_id).
    retention: 'close_on_settle',
    subtask: {
      name: skill.name,
      description: skill.description,
      content,
    },
  };
  const route = routePolicyOf(skill);
  if (route) req.route_policy = route;
  const surface = await toolSurfaceOf(svc, ctx.agent_id, skill, req);
  if (surface) req.tool_surface = surface;
  const spawned = await svc.agents.spawn(ctx.agent_id, req, {
    spawned_by_run_id: ctx.run_id,
    // The model's call id repeats across runs; the run id makes it unique per parent.
    spawn_request_id: `skill:${ctx.run_id}:${ctx.tool_call_id}`,
  });
  if (!spawned.duplicate)
    await svc.engine.store.write((tx) =>
      appendTraces(svc.engine.events, tx, run, [
        {
          kind: 'skill_activated',
          name: skill.name,
          mode: 'fork',
          digest: skill.digest,
          scope: skill.scope,
          tool_call_id: ctx.tool_call_id,
          agent_id: spawned.agent_id,
          child_session_id: spawned.session_id,
          launch_run_id: spawned.launch_run_id ?? null,
          ...(input.reason ? { reason: input.reason } : {}),
        },
      ]),
    );
  const spawn: Record<string, unknown> = {
    agent_id: spawned.agent_id,
    session_id: spawned.session_id,
    launch_run_id: spawned.launch_run_id,
    status: spawned.status,
    profile: spawned.profile,
    ...(worktreePath ? { worktree_path: worktreePath } : {}),
  };
  const launch = spawned.launch_run_id;
  if ((input.wait ?? true) && launch) {
    const timeoutMs = Math.max(0, Math.min(input.timeout_ms ?? DEFAULT_FORK_WAIT_MS, svc.maxWaitMs()));
    const settled = await svc.engine.waitSettled(
      launch,
      AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutMs)]),
    );
    if (ctx.signal.aborted) throw ctx.signal.reason ?? new Error('use_skill cancelled');
    const done = isTerminal(settled.status);
    // The wait saw the outcome: the parent is not told again by a child_outcome message.
    if (done)
      await svc.engine.store.write((tx) =>
        consumeChildOutcome(tx.db, ctx.agent_id, spawned.agent_id, tx.now),
      );
    const snapshot = await svc.agents.snapshot(spawned.agent_id);
    const last = (await outputsOfRun(svc.engine.store.db, launch)).at(-1)?.content;
    Object.assign(spawn, {
      status: snapshot.status,
      run_status: settled.status,
      timed_out: !done && !settled.status.startsWith('waiting_'),
      snapshot,
      ...(typeof last === 'string' ? { final_output: last } : {}),
    });
  }
  return { action: 'fork', mode: 'fork', name: skill.name, digest: skill.digest, spawn };
}
