// Managed agents (api-core §6.4): the agent tree (primary agents are sessions, children are
// sidechains with sessions of their own), sidechain spawns with inheritance and quotas, and the
// engine hooks that make a child's pinned mode, tool surface and outcome effective.
import type { ResolvedSubagentPolicy } from '../../config/subagent-policy.ts';
import type { Engine } from '../../engine/engine.ts';
import { appendTraces, type Trace } from '../../engine/traces.ts';
import { buildRunView } from '../../engine/views.ts';
import { DaemonError, errors } from '../../errors/daemon-error.ts';
import {
  agentCounts,
  countLiveChildAgents,
  findSpawn,
  getAgent,
  getAgentBySession,
  insertAgent,
  listChildAgents,
  primarySessions,
  sessionOfAgent,
  updateAgent,
} from '../../store/repos/agents.ts';
import { countMailboxMessages, parentClarificationOverlay } from '../../store/repos/mailboxes.ts';
import { getRun, type RunRow } from '../../store/repos/runs.ts';
import { countSessions, getSession, insertSession } from '../../store/repos/sessions.ts';
import type { Executor } from '../../store/schema.ts';
import type { PermissionMode } from '../../tools/permissions.ts';
import { AgentLifecycle } from './lifecycle.ts';
import { AGENT_PROFILES, chainAllows, type SurfaceFilter } from './profiles.ts';
import { quotaDenied } from './quotas.ts';
import { AGENT_STATUSES, type SpawnSidechainRequest } from './schema.ts';
import { planSpawn, prepareSubtask, type SpawnOrigin } from './spawn.ts';
import { subagentStart } from './spawn-hooks.ts';
import {
  type AgentNode,
  type AgentStatus,
  blockedOnParent,
  buildAgentSnapshot,
  buildAgentSummary,
} from './views.ts';

export const agentNotFound = (id: string) =>
  new DaemonError(404, 'agents', 'agent_not_found', `agent ${id} was not found`);

export interface SummaryFilter {
  root_agent_id?: string;
  session_id?: string;
  status?: AgentStatus;
  has_runtime?: boolean;
}

export class AgentsService {
  readonly engine: Engine;
  readonly policy: ResolvedSubagentPolicy;
  readonly lifecycle: AgentLifecycle;
  private readonly pinned = new Map<string, { chain: SurfaceFilter[]; mode: PermissionMode } | null>();

  constructor(engine: Engine, policy: ResolvedSubagentPolicy) {
    this.engine = engine;
    this.policy = policy;
    this.lifecycle = new AgentLifecycle(engine);
  }

  private get db() {
    return this.engine.store.db;
  }

  /** Wires the engine: child tool surfaces and modes, outcomes to parents, orphaning. */
  install(): void {
    const baseSurface = this.engine.toolSurfaceFor;
    this.engine.toolSurfaceFor = async (run) => {
      const outer = await baseSurface(run);
      const own = await this.pinnedOf(run.session_id);
      if (!own) return outer;
      const names = (outer ? [...outer] : this.engine.tools.list().map((t) => t.name)).filter((t) =>
        chainAllows(own.chain, t),
      );
      return new Set(names);
    };
    const baseMode = this.engine.permissionModeFor;
    this.engine.permissionModeFor = async (sessionId) =>
      (await this.pinnedOf(sessionId))?.mode ?? baseMode(sessionId);
    this.engine.onRunTerminal((tx, run) => this.lifecycle.onRunTerminal(tx, run));
    this.engine.onSessionEnd((tx, sessionId) => this.lifecycle.onSessionEnd(tx, sessionId));
  }

  /**
   * A child's pinned surface and mode (cached: they never change); null for a primary agent, also
   * cached: a child's agent row is created with its session, so a session without one never gets
   * one (asked twice per agent step otherwise).
   */
  private async pinnedOf(sessionId: string) {
    const cached = this.pinned.get(sessionId);
    if (cached !== undefined) return cached;
    const row = await getAgentBySession(this.db, sessionId);
    if (!row) {
      this.pinned.set(sessionId, null);
      return null;
    }
    const pinned = {
      chain: JSON.parse(row.tool_surface) as SurfaceFilter[],
      mode: row.permission_mode as PermissionMode,
    };
    this.pinned.set(sessionId, pinned);
    return pinned;
  }

  // ---------------------------------------------------------------- reading the tree

  async resolve(db: Executor, agentId: string): Promise<AgentNode | undefined> {
    const session = await sessionOfAgent(db, agentId);
    if (!session) return undefined;
    return { agent_id: agentId, session, child: (await getAgentBySession(db, session.session_id)) ?? null };
  }

  async require(agentId: string, db: Executor = this.db): Promise<AgentNode> {
    const node = await this.resolve(db, agentId);
    if (!node) throw agentNotFound(agentId);
    return node;
  }

  /** Every agent in tree order (or the subtree of `fromAgentId`): each primary agent, then its descendants, depth first. */
  async nodes(fromAgentId?: string): Promise<AgentNode[]> {
    const start = fromAgentId === undefined ? undefined : await this.resolve(this.db, fromAgentId);
    if (fromAgentId !== undefined && !start) return [];
    const children = await listChildAgents(this.db, start && (start.child?.root_agent_id ?? start.agent_id));
    const sessions = new Map<string, NonNullable<Awaited<ReturnType<typeof getSession>>>>();
    for (const c of children) {
      const s = await getSession(this.db, c.session_id);
      if (s) sessions.set(c.session_id, s);
    }
    const byParent = new Map<string, AgentNode[]>();
    for (const c of children) {
      const session = sessions.get(c.session_id);
      if (!session) continue;
      byParent.set(c.parent_agent_id, [
        ...(byParent.get(c.parent_agent_id) ?? []),
        { agent_id: c.agent_id, session, child: c },
      ]);
    }
    const roots = start
      ? [start]
      : (await primarySessions(this.db)).map((session) => ({
          agent_id: session.agent_id,
          session,
          child: null,
        }));
    const out: AgentNode[] = [];
    const walk = (n: AgentNode) => {
      out.push(n);
      for (const c of byParent.get(n.agent_id) ?? []) walk(c);
    };
    for (const r of roots) walk(r);
    return out;
  }

  private childIds(nodes: AgentNode[], agentId: string): string[] {
    return nodes.filter((n) => n.child?.parent_agent_id === agentId).map((n) => n.agent_id);
  }

  private tools(): string[] {
    return this.engine.tools.list().map((t) => t.name);
  }

  async snapshots(rootAgentId?: string) {
    const nodes = await this.nodes(rootAgentId);
    return Promise.all(nodes.map((n) => this.snapshotOf(n, this.childIds(nodes, n.agent_id))));
  }

  async snapshot(agentId: string) {
    const node = await this.require(agentId);
    const children = (await listChildAgents(this.db, node.child?.root_agent_id ?? node.agent_id))
      .filter((c) => c.parent_agent_id === agentId)
      .map((c) => c.agent_id);
    return this.snapshotOf(node, children);
  }

  private async snapshotOf(node: AgentNode, children: string[]) {
    const view = await buildAgentSnapshot(this.db, node, children, this.tools());
    const overlay = await parentClarificationOverlay(this.db, node.agent_id);
    view.status = blockedOnParent(view.status as AgentStatus, overlay.awaiting_parent_clarification);
    (view.agent as Record<string, unknown>).status = view.status;
    return view;
  }

  async summary(node: AgentNode) {
    return buildAgentSummary(
      this.db,
      node,
      await countMailboxMessages(this.db, node.agent_id),
      await parentClarificationOverlay(this.db, node.agent_id),
    );
  }

  /** Summaries sorted by agent id (the cursor key), with exact counts of the filtered scope. */
  async summaries(filter: SummaryFilter) {
    if (filter.root_agent_id !== undefined) await this.require(filter.root_agent_id);
    const all = await Promise.all((await this.nodes(filter.root_agent_id)).map((n) => this.summary(n)));
    all.sort((a, b) => (String(a.agent_id) < String(b.agent_id) ? -1 : 1));
    const scoped = all.filter((s) => filter.session_id === undefined || s.session_id === filter.session_id);
    const items = scoped.filter(
      (s) =>
        (filter.status === undefined || s.status === filter.status) &&
        (filter.has_runtime === undefined || s.has_runtime === filter.has_runtime),
    );
    const counts: Record<string, number> = { total: scoped.length, filtered: items.length };
    for (const st of AGENT_STATUSES) counts[st] = scoped.filter((s) => s.status === st).length;
    counts.with_runtime = scoped.filter((s) => s.has_runtime).length;
    counts.without_runtime = scoped.length - counts.with_runtime;
    return { items, counts };
  }

  // ---------------------------------------------------------------- spawning

  /** The parent's effective mode, read before the spawn transaction opens (it may read the store). */
  private async parentMode(agentId: string): Promise<{ node: AgentNode; mode: PermissionMode }> {
    const node = await this.require(agentId);
    return { node, mode: await this.engine.permissionModeFor(node.session.session_id) };
  }

  async spawn(parentAgentId: string, asked: SpawnSidechainRequest, origin: Partial<SpawnOrigin> = {}) {
    const { mode } = await this.parentMode(parentAgentId);
    const req = await prepareSubtask(this.engine, asked);
    const spawnRequestId = origin.spawn_request_id ?? req.spawn_request_id ?? null;
    if (this.engine.hooks.has('subagent_start'))
      await subagentStart(this.engine, await this.require(parentAgentId), req, spawnRequestId);
    const result = await this.engine.store.write(async (tx) => {
      const parent = await this.require(parentAgentId, tx.db);
      if (spawnRequestId !== null) {
        const existing = await findSpawn(tx.db, parentAgentId, spawnRequestId);
        if (existing) return { agentId: existing.agent_id, runId: existing.launch_run_id, duplicate: true };
      }
      if (parent.child?.closed_at_ms != null)
        throw new DaemonError(
          409,
          'agents',
          'agent_closed',
          `agent ${parentAgentId} is closed; it cannot spawn`,
        );
      if (parent.session.ended_at_ms !== null) throw errors.sessionEnded(parent.session.session_id);
      const plan = await planSpawn(
        tx.db,
        this.engine,
        this.policy.policy,
        parent,
        mode,
        req,
        { spawned_by_run_id: origin.spawned_by_run_id ?? null, spawn_request_id: spawnRequestId },
        tx.now,
      );
      const denied = plan.checks.find((c) => !c.ok);
      if (denied) throw quotaDenied(denied);
      if (await getSession(tx.db, plan.session.session_id))
        throw new DaemonError(
          409,
          'sessions',
          'session_binding_conflict',
          `session ${plan.session.session_id} already exists; a sidechain needs a session of its own`,
        );
      await insertSession(tx.db, plan.session);
      await insertAgent(tx.db, plan.agent);
      let run: RunRow | null = null;
      if (plan.run_request) {
        run = (await this.engine.submitInTx(tx, plan.session.session_id, plan.run_request, { kind: 'input' }))
          .run;
        await updateAgent(tx.db, plan.agent.agent_id, { launch_run_id: run.run_id });
      }
      // session_id is the parent's (the stream it appears on); the child's is child_session_id.
      const spawned: Trace = {
        kind: 'sidechain_spawned',
        agent_id: plan.agent.agent_id,
        parent_agent_id: parentAgentId,
        child_session_id: plan.session.session_id,
        profile: plan.agent.profile,
        permission_mode: plan.agent.permission_mode,
        launch_run_id: run?.run_id ?? null,
      };
      const { kind: _kind, ...fields } = spawned;
      const by = plan.agent.spawned_by_run_id ? await getRun(tx.db, plan.agent.spawned_by_run_id) : undefined;
      if (by) await appendTraces(this.engine.events, tx, by, [spawned]);
      else
        await this.engine.events.append(tx, [
          {
            name: 'trace',
            session_id: parent.session.session_id,
            data: { trace: { kind: 'sidechain_spawned', session_id: parent.session.session_id, ...fields } },
          },
        ]);
      return { agentId: plan.agent.agent_id, runId: run?.run_id ?? null, duplicate: false };
    });
    return this.spawnView(result.agentId, result.runId, result.duplicate);
  }

  /** What POST …/sidechains answers (201, or 200 for a repeated spawn_request_id). */
  async spawnView(agentId: string, runId: string | null, duplicate: boolean) {
    const snapshot = await this.snapshot(agentId);
    const agent = snapshot.agent as Record<string, unknown>;
    const run = runId ? await getRun(this.db, runId) : undefined;
    return {
      agent_id: agentId,
      session_id: snapshot.session_id,
      parent_agent_id: snapshot.parent_agent_id,
      status: snapshot.status,
      name: agent.name,
      path: agent.path,
      nickname: agent.nickname,
      retention: agent.retention,
      profile: agent.profile,
      permission_mode: agent.permission_mode,
      launch_run_id: runId ?? undefined,
      duplicate,
      snapshot,
      run: run ? await buildRunView(this.db, run) : undefined,
    };
  }

  /** Dry run: every rule and quota of a spawn, nothing written. */
  async explain(parentAgentId: string, req: SpawnSidechainRequest) {
    const { node, mode } = await this.parentMode(parentAgentId);
    const base = { parent_agent_id: parentAgentId, parent_permission_mode: mode };
    try {
      const plan = await planSpawn(
        this.db,
        this.engine,
        this.policy.policy,
        node,
        mode,
        req,
        { spawned_by_run_id: null, spawn_request_id: req.spawn_request_id ?? null },
        Date.now(),
      );
      const denied = plan.checks.find((c) => !c.ok);
      const parse = (s: string | null) => (s === null ? null : JSON.parse(s));
      return {
        ...base,
        allowed: denied === undefined,
        error: denied ? problemOf(quotaDenied(denied)) : undefined,
        effective: {
          profile: plan.agent.profile,
          permission_mode: plan.agent.permission_mode,
          retention: plan.agent.retention,
          depth: plan.agent.depth,
          path: plan.agent.path,
          tool_surface: this.tools().filter((t) => chainAllows(plan.tool_chain, t)),
          tool_surface_filters: plan.tool_chain,
          capability_scope: parse(plan.session.capability_scope),
          credential_scope: parse(plan.session.credential_scope),
          route_policy: parse(plan.session.route_policy),
          inheritance: JSON.parse(plan.agent.inheritance),
          launches_run: plan.run_request !== null,
        },
        quotas: plan.checks,
      };
    } catch (err) {
      if (err instanceof DaemonError && err.status === 400)
        return { ...base, allowed: false, error: problemOf(err) };
      throw err;
    }
  }

  async setNickname(agentId: string, nickname: string | null) {
    await this.engine.store.write(async (tx) => {
      const node = await this.require(agentId, tx.db);
      if (!node.child)
        throw new DaemonError(
          409,
          'agents',
          'agent_nickname_unsupported',
          `agent ${agentId} is a primary agent; it is named by its session (${node.session.session_id})`,
        );
      await updateAgent(tx.db, agentId, { nickname, updated_at_ms: tx.now });
    });
    return this.snapshot(agentId);
  }

  // ---------------------------------------------------------------- runtime and status views

  policyView() {
    return {
      ...this.policy.policy,
      policy_file: this.policy.policy_file,
      profiles: Object.fromEntries(
        Object.entries(AGENT_PROFILES).map(([k, v]) => [k, { description: v.description, tools: v.allow }]),
      ),
    };
  }

  async statusView() {
    // Counters and live rows only (migration 0011): nothing here reads the whole history.
    const primaries = (await countSessions(this.db)).primary;
    const c = await agentCounts(this.db);
    return {
      total: primaries + c.children,
      primary_count: primaries,
      sidechain_count: c.children,
      live_sidechain_count: await countLiveChildAgents(this.db),
      closed_count: c.closed,
      orphaned_count: c.orphaned,
    };
  }

  /** Agents an agent may address through its tools: its own tree (root and every descendant). */
  async treeOf(callerAgentId: string): Promise<AgentNode[]> {
    const caller = await this.require(callerAgentId);
    return this.nodes(caller.child?.root_agent_id ?? caller.agent_id);
  }

  async getAgentRow(agentId: string) {
    return getAgent(this.db, agentId);
  }
}

export function problemOf(err: DaemonError) {
  return { status: err.status, domain: err.domain, code: err.code, detail: err.detail };
}
