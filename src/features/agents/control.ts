// The agents feature behind the orchestration tools: spawns on behalf of the calling agent
// (idempotent per tool call), waits on descendants (woken by their run updates, cancellable), and
// lists the caller's tree. A wait that sees a child's outcome consumes the matching child_outcome
// mailbox message, so the parent is not told twice.
import { setTimeout as sleep } from 'node:timers/promises';
import { consumeChildOutcome, parentClarificationOverlay } from '../../store/repos/mailboxes.ts';
import type {
  AgentToolHost,
  ListSummariesInput,
  SpawnAgentInput,
  WaitAgentInput,
} from '../../tools/control/agents.ts';
import type { ToolContext } from '../../tools/registry.ts';
import type { CapabilityScope, CredentialScope } from '../sessions/schema.ts';
import type { SpawnSidechainRequest } from './schema.ts';
import { type AgentsService, agentNotFound } from './service.ts';
import { type AgentNode, agentState, blockedOnParent, outputPreview } from './views.ts';

export const DEFAULT_WAIT_MS = 120_000;
const WAIT_PREVIEW_CHARS = 2000;
/** Re-check at least this often even without a wake-up (a missed event can never hang a wait). */
const RECHECK_MS = 1000;

export class AgentToolControl implements AgentToolHost {
  private readonly agents: AgentsService;
  /** The longest a wait may take (stays under the tool timeout so the answer is a clean timed_out). */
  private readonly maxWaitMs: () => number;

  constructor(agents: AgentsService, maxWaitMs: () => number = () => Number.MAX_SAFE_INTEGER) {
    this.agents = agents;
    this.maxWaitMs = maxWaitMs;
  }

  async spawnAgent(ctx: ToolContext, input: SpawnAgentInput) {
    const req: SpawnSidechainRequest = {
      subtask: { name: input.name, description: input.description, content: input.prompt ?? '' },
    };
    if (input.agent_type !== undefined) req.profile = input.agent_type;
    if (input.mode !== undefined) req.permission_mode = input.mode;
    if (input.retention !== undefined) req.retention = input.retention;
    if (input.nickname !== undefined) req.nickname = input.nickname;
    if (input.provider !== undefined || input.model !== undefined)
      req.route_policy = {
        provider: input.provider,
        generation: input.model === undefined ? undefined : { model: input.model },
      };
    if (input.allowed_tools !== undefined || input.blocked_tools !== undefined)
      req.tool_surface = { allowlist: input.allowed_tools, denylist: input.blocked_tools };
    if (input.capability_scope !== undefined)
      req.capability_scope = input.capability_scope as CapabilityScope;
    if (input.credential_scope !== undefined)
      req.credential_scope = input.credential_scope as CredentialScope;
    const spawned = await this.agents.spawn(ctx.agent_id, req, {
      spawned_by_run_id: ctx.run_id,
      // The model's call id repeats across runs; the run id makes it unique per parent.
      spawn_request_id: `tool:${ctx.run_id}:${ctx.tool_call_id}`,
    });
    const result: Record<string, unknown> = {
      agent_id: spawned.agent_id,
      session_id: spawned.session_id,
      status: spawned.status,
      run_in_background: !input.wait,
      launch_run_id: spawned.launch_run_id,
      name: spawned.name,
      path: spawned.path,
      nickname: spawned.nickname,
      retention: spawned.retention,
      profile: spawned.profile,
      permission_mode: spawned.permission_mode,
    };
    if (input.wait) {
      const waited = await this.waitAgents(ctx, {
        agent_ids: [spawned.agent_id],
        timeout_ms: input.timeout_ms,
      });
      const one = waited.agents[0];
      Object.assign(result, {
        status: one?.status,
        final_output: one?.output_preview,
        timed_out: waited.timed_out,
      });
    }
    return result;
  }

  /** The caller's descendants, matched by id first, then nickname, then name. */
  private async targets(caller: string, refs: string[]): Promise<AgentNode[]> {
    const tree = await this.agents.treeOf(caller);
    const below = new Set<string>([caller]);
    const descendants: AgentNode[] = [];
    for (const n of tree)
      if (n.child && below.has(n.child.parent_agent_id)) {
        below.add(n.agent_id);
        descendants.push(n);
      }
    if (refs.length === 0) return descendants.filter((n) => n.child?.parent_agent_id === caller);
    return refs.map((ref) => {
      const byId = descendants.find((n) => n.agent_id === ref);
      if (byId) return byId;
      const named = descendants.filter((n) => n.child?.nickname === ref || n.child?.name === ref);
      if (named.length === 1) return named[0]!;
      if (named.length > 1) throw new Error(`\`${ref}\` names ${named.length} agents; use an agent id`);
      if (tree.some((n) => n.agent_id === ref))
        throw new Error(`agent ${ref} is not one of your descendants`);
      throw agentNotFound(ref);
    });
  }

  async waitAgents(ctx: ToolContext, input: WaitAgentInput) {
    const refs = [...(input.agent_id ? [input.agent_id] : []), ...(input.agent_ids ?? [])];
    const targets = await this.targets(ctx.agent_id, refs);
    const mode = input.mode ?? 'all';
    const timeoutMs = Math.max(0, Math.min(input.timeout_ms ?? DEFAULT_WAIT_MS, this.maxWaitMs()));
    const deadline = Date.now() + timeoutMs;
    const db = this.agents.engine.store.db;
    const sessions = new Set(targets.map((t) => t.session.session_id));
    // A child blocked on a clarification from this very caller cannot settle while the caller
    // waits (the question is delivered to the caller's session once it is free): stop waiting.
    const read = () =>
      Promise.all(
        targets.map(async (t) => ({
          ...(await agentState(db, t)),
          asking: (await parentClarificationOverlay(db, t.agent_id)).awaiting_parent_clarification,
        })),
      );
    let states: Awaited<ReturnType<typeof read>> = [];
    const stops = (s: (typeof states)[number]) => s.settled || s.asking;
    const done = () => (mode === 'all' ? states.every(stops) : states.some(stops));
    // Subscribed for the whole wait; the wake-up is re-armed before every read, so an update that
    // lands between a read and the next sleep is never missed.
    let wake = new AbortController();
    const unsubscribe = this.agents.engine.events.subscribe((ev) => {
      if (ev.name === 'run_updated' && ev.session_id !== null && sessions.has(ev.session_id)) wake.abort();
    });
    try {
      states = await read();
      while (!done() && Date.now() < deadline) {
        if (!wake.signal.aborted)
          await sleep(Math.min(RECHECK_MS, deadline - Date.now()), undefined, {
            signal: AbortSignal.any([wake.signal, ctx.signal]),
          }).catch(() => undefined);
        if (ctx.signal.aborted) throw ctx.signal.reason ?? new Error('wait_agent cancelled');
        wake = new AbortController();
        states = await read();
      }
    } finally {
      unsubscribe();
    }
    const settledChildren = targets.filter(
      (t, i) => states[i]!.settled && t.child?.parent_agent_id === ctx.agent_id,
    );
    if (settledChildren.length > 0)
      await this.agents.engine.store.write(async (tx) => {
        for (const t of settledChildren) await consumeChildOutcome(tx.db, ctx.agent_id, t.agent_id, tx.now);
      });
    const agents = await Promise.all(
      targets.map(async (t, i) => {
        const s = states[i]!;
        const preview = await outputPreview(db, s.last, WAIT_PREVIEW_CHARS);
        return {
          agent_id: t.agent_id,
          name: t.child?.name,
          nickname: t.child?.nickname ?? undefined,
          session_id: t.session.session_id,
          status: blockedOnParent(s.status, s.asking),
          ...(s.asking ? { awaiting_parent_clarification: true } : {}),
          settled: s.settled,
          last_run_id: s.last?.run_id,
          last_run_status: s.last?.status,
          error: s.last?.status === 'failed' ? s.last.error : undefined,
          output_preview: preview.text,
          output_truncated: preview.truncated,
        };
      }),
    );
    const asking = states.filter((s) => s.asking && !s.settled).length;
    return {
      mode,
      timed_out: !done(),
      settled_count: states.filter((s) => s.settled).length,
      agents,
      ...(asking > 0
        ? {
            note: `${asking} child agent(s) wait for a clarification from you; it reaches this session's questions once this run ends`,
          }
        : {}),
    };
  }

  async listAgents(ctx: ToolContext) {
    const caller = await this.agents.require(ctx.agent_id);
    return this.agents.snapshots(caller.child?.root_agent_id ?? caller.agent_id);
  }

  async listAgentSummaries(ctx: ToolContext, input: ListSummariesInput) {
    const caller = await this.agents.require(ctx.agent_id);
    const { items, counts } = await this.agents.summaries({
      root_agent_id: caller.child?.root_agent_id ?? caller.agent_id,
      status: input.status,
      has_runtime: input.has_runtime,
    });
    return { items, counts };
  }

  async getAgent(ctx: ToolContext, agentId: string) {
    const tree = await this.agents.treeOf(ctx.agent_id);
    if (!tree.some((n) => n.agent_id === agentId)) throw agentNotFound(agentId);
    return this.agents.snapshot(agentId);
  }
}
