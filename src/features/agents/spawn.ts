// Planning one sidechain spawn: inheritance, narrowing checks, route policy, the first run's
// request and the quota checks. Pure over a database handle, so the real spawn (inside its write
// transaction) and the dry run (`…/sidechains/explain`) share every rule.
import { monotonicFactory } from 'ulid';
import type { SubagentPolicy } from '../../config/subagent-policy.ts';
import { effectiveCapabilityScope } from '../../engine/capability-scope.ts';
import type { Engine } from '../../engine/engine.ts';
import { prepareRequest } from '../../engine/input-assets.ts';
import { type InputItem, inputText, type StoredRunRequest } from '../../engine/types.ts';
import { DaemonError } from '../../errors/daemon-error.ts';
import { type AgentRow, sessionOfAgent } from '../../store/repos/agents.ts';
import type { SessionRow } from '../../store/repos/sessions.ts';
import type { Executor } from '../../store/schema.ts';
import type { PermissionMode } from '../../tools/permissions.ts';
import { normalizeSubmission } from '../runs/service.ts';
import type { CapabilityScope, CredentialScope, RoutePolicy } from '../sessions/schema.ts';
import {
  childCapabilityScope,
  childCredentialScope,
  childPermissionMode,
  childToolSurface,
  spawnRejected,
} from './inheritance.ts';
import type { SurfaceFilter } from './profiles.ts';
import { estimateTokens, evaluateQuotas, type QuotaCheck } from './quotas.ts';
import type { SpawnSidechainRequest } from './schema.ts';
import { type AgentNode, depthOf, pathOf, rootAgentId, surfaceChain } from './views.ts';

const ulid = monotonicFactory();

export interface SpawnOrigin {
  /** The run whose tool call spawns (spawn_agent), else null (control plane). */
  spawned_by_run_id: string | null;
  spawn_request_id: string | null;
}

export interface SpawnPlan {
  session: SessionRow;
  agent: AgentRow;
  run_request: StoredRunRequest | null;
  checks: QuotaCheck[];
  tool_chain: SurfaceFilter[];
}

const parse = <T>(s: string | null): T | null => (s === null ? null : (JSON.parse(s) as T));
const json = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v));

/** Machine-friendly name: lowercase words joined by dashes. */
export const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48) || 'sidechain';

/** `route_policy` is the modern form; `provider`/`route_id` + `generation` must agree with it. */
function routePolicyOf(engine: Engine, req: SpawnSidechainRequest): RoutePolicy | null {
  if (req.provider && req.route_id && req.provider !== req.route_id)
    throw spawnRejected('provider and route_id name different routes; send one of them');
  const provider = req.provider ?? req.route_id;
  let policy: RoutePolicy | null = req.route_policy ?? null;
  if (policy) {
    if (provider && policy.provider && provider !== policy.provider)
      throw spawnRejected('route_policy.provider and provider conflict; send route_policy only');
    if (
      req.generation &&
      policy.generation &&
      JSON.stringify(req.generation) !== JSON.stringify(policy.generation)
    )
      throw spawnRejected('route_policy.generation and generation conflict; send route_policy only');
    policy = {
      ...policy,
      provider: policy.provider ?? provider,
      generation: policy.generation ?? req.generation,
    };
  } else if (provider || req.generation) policy = { provider, generation: req.generation };
  if (policy?.provider !== undefined && !engine.routes.get(policy.provider))
    throw new DaemonError(
      400,
      'routes',
      'unknown_route',
      `route \`${policy.provider}\` is not configured; known routes: ${engine.routes
        .list()
        .map((r) => r.config.route_id)
        .join(', ')}`,
    );
  if (!policy) return null;
  const clean = Object.fromEntries(Object.entries(policy).filter(([, v]) => v !== undefined));
  return Object.keys(clean).length ? (clean as RoutePolicy) : null;
}

/**
 * A subtask's files are imported (inline uploads) and checked (references) before the spawn's
 * transaction, like any other input; the child's run then holds only asset references.
 */
export async function prepareSubtask(
  engine: Engine,
  req: SpawnSidechainRequest,
): Promise<SpawnSidechainRequest> {
  const t = req.subtask;
  if (!t || (!t.input_items?.length && !t.attachments?.length)) return req;
  const prepared = await prepareRequest(engine.inputAssets, {
    source_plugin: 'agent',
    source_kind: 'sidechain_subtask',
    actor_id: '',
    content: '',
    input_items: t.input_items as InputItem[] | undefined,
    attachments: t.attachments,
  });
  const subtask = { ...t } as typeof t;
  if (t.input_items) subtask.input_items = prepared.input_items as typeof t.input_items;
  if (t.attachments) subtask.attachments = prepared.attachments as typeof t.attachments;
  return { ...req, subtask };
}

/** The first run of the child: its subtask (content, or ordered input_items). */
function subtaskRequest(req: SpawnSidechainRequest, parent: AgentNode): StoredRunRequest | null {
  const t = req.subtask;
  if (!t) return null;
  const hasInput = (t.content ?? '').trim() !== '' || t.input_items?.length || t.attachments?.length;
  const stored = normalizeSubmission({
    content: hasInput ? t.content : t.description?.trim() || t.name,
    input_items: t.input_items,
    attachments: t.attachments,
    source_plugin: 'agent',
    source_kind: 'sidechain_subtask',
    actor_id: parent.agent_id,
  });
  stored.metadata = {
    sidechain: { parent_agent_id: parent.agent_id, subtask_name: t.name, subtask_description: t.description },
  };
  return stored;
}

export async function planSpawn(
  db: Executor,
  engine: Engine,
  policy: SubagentPolicy,
  parent: AgentNode,
  parentMode: PermissionMode,
  req: SpawnSidechainRequest,
  origin: SpawnOrigin,
  now: number,
): Promise<SpawnPlan> {
  const profile = req.profile ?? 'default';
  const mode = childPermissionMode(parentMode, req.permission_mode);
  // Checked against what the parent can really see (its persona baseline and its own ancestors
  // included), not only its session's own list.
  const capability = childCapabilityScope(
    (await effectiveCapabilityScope(db, parent.session)) as CapabilityScope | null,
    req.capability_scope,
  );
  const credential = childCredentialScope(
    parse<CredentialScope>(parent.session.credential_scope),
    req.credential_scope,
  );
  const registered = new Set(engine.tools.list().map((t) => t.name));
  const chain = childToolSurface(surfaceChain(parent), profile, req.tool_surface, (t) => registered.has(t));
  const routePolicy = routePolicyOf(engine, req);
  const runRequest = subtaskRequest(req, parent);

  const name = slug(req.subtask?.name ?? req.nickname ?? 'sidechain');
  const agentId = `agent-${ulid().toLowerCase()}`;
  const sessionId = req.session_id ?? `sidechain-${ulid().toLowerCase()}`;
  const session: SessionRow = {
    session_id: sessionId,
    agent_id: agentId,
    thread_id: req.thread_id ?? null,
    created_at_ms: now,
    updated_at_ms: now,
    ended_at_ms: null,
    end_reason: null,
    // Not inherited: a child runs on its own route (the daemon default unless the request names one).
    route_policy: json(routePolicy),
    capability_scope: json(capability),
    credential_scope: json(credential),
    reply_targets: null,
    // Snapshot copies, never live links.
    persona: parent.session.persona,
    persona_id: parent.session.persona_id,
    budget: null,
    output_contract: null,
    input_contract: null,
    permission_rules: parent.session.permission_rules,
  };
  const agent: AgentRow = {
    agent_id: agentId,
    session_id: sessionId,
    parent_agent_id: parent.agent_id,
    parent_session_id: parent.session.session_id,
    root_agent_id: rootAgentId(parent),
    depth: depthOf(parent) + 1,
    name,
    path: `${pathOf(parent)}/${name}`,
    nickname: req.nickname ?? null,
    profile,
    retention: req.retention ?? 'retain',
    permission_mode: mode,
    tool_surface: JSON.stringify(chain),
    inheritance: JSON.stringify({
      parent_permission_mode: parentMode,
      requested_permission_mode: req.permission_mode ?? null,
      capability_scope_requested: req.capability_scope !== undefined,
      credential_scope_requested: req.credential_scope !== undefined,
      // Without an explicit credential scope: routes yes, connector credentials and credentialed MCP no.
      credentials_delegated: req.credential_scope !== undefined,
      persona_inherited: parent.session.persona !== null,
      permission_rules_copied: parent.session.permission_rules !== null,
      route_policy_inherited: false,
    }),
    subtask: req.subtask
      ? JSON.stringify({
          name: req.subtask.name,
          description: req.subtask.description ?? '',
          input: runRequest ? { text: inputText(runRequest), input_items: runRequest.input_items } : null,
        })
      : null,
    fork_context: json(req.fork_context),
    spawned_by_run_id: origin.spawned_by_run_id,
    spawn_request_id: origin.spawn_request_id,
    launch_run_id: null,
    est_cost_microusd: policy.estimated_spawn_cost_microusd,
    est_cpu_ms: policy.estimated_spawn_cpu_ms,
    spawned_at_ms: now,
    updated_at_ms: now,
    settled_at_ms: runRequest ? null : now,
    closed_at_ms: null,
    close_reason: null,
    orphaned_at_ms: null,
  };
  const maxOut = routePolicy?.generation?.max_output_tokens ?? null;
  const checks = await evaluateQuotas(db, policy, {
    parent_agent_id: parent.agent_id,
    parent_session_id: parent.session.session_id,
    child_depth: agent.depth,
    root_agent_id: agent.root_agent_id,
    root_session_id: parent.child
      ? ((await sessionOfAgent(db, agent.root_agent_id))?.session_id ?? '')
      : parent.session.session_id,
    spawned_by_run_id: origin.spawned_by_run_id,
    profile,
    input_tokens_estimate: runRequest
      ? estimateTokens(`${inputText(runRequest)}${req.subtask?.description ?? ''}`)
      : 0,
    max_output_tokens: maxOut,
    now,
  });
  return { session, agent, run_request: runRequest, checks, tool_chain: chain };
}
