// Spawn quotas (ops-runtime §2.4), checked inside the spawn transaction so two spawns can never both
// take the last slot. A denial is `429 subagent_policy/spawn_policy_denied` (api-core §1.3.1).
import type { SubagentPolicy } from '../../config/subagent-policy.ts';
import { DaemonError } from '../../errors/daemon-error.ts';
import {
  countSpawnsOfRun,
  listChildAgents,
  liveChildAgents,
  spawnsSince,
  usageOfSessions,
} from '../../store/repos/agents.ts';
import type { Executor } from '../../store/schema.ts';

export interface SpawnQuotaContext {
  parent_agent_id: string;
  parent_session_id: string;
  /** Depth the child would have (1 under a primary agent). */
  child_depth: number;
  root_agent_id: string;
  root_session_id: string;
  spawned_by_run_id: string | null;
  profile: string;
  input_tokens_estimate: number;
  max_output_tokens: number | null;
  now: number;
}

export interface QuotaCheck {
  quota: string;
  limit: number;
  /** The value the spawn would reach (or the request's own size for per-request caps). */
  observed: number;
  ok: boolean;
  /** For windowed quotas: when the oldest counted spawn leaves the window. */
  retry_after_ms?: number;
  detail: string;
}

/** Every quota, in the order they are reported (the first failing one is the denial). */
export async function evaluateQuotas(
  db: Executor,
  policy: SubagentPolicy,
  c: SpawnQuotaContext,
): Promise<QuotaCheck[]> {
  const checks: QuotaCheck[] = [];
  const add = (quota: keyof SubagentPolicy, observed: number, detail: string, windowed = false) => {
    const limit = policy[quota];
    const check: QuotaCheck = { quota, limit, observed, ok: observed <= limit, detail };
    if (windowed && !check.ok) check.retry_after_ms = policy.spawn_rate_window_ms;
    checks.push(check);
  };

  add('max_child_depth', c.child_depth, `the child would be at depth ${c.child_depth}`);
  const liveOfParent = await liveChildAgents(db, { parent_agent_id: c.parent_agent_id });
  add(
    'max_live_children_per_parent',
    liveOfParent.length + 1,
    `agent ${c.parent_agent_id} has ${liveOfParent.length} live children`,
  );
  const liveOfRoot = await liveChildAgents(db, { root_agent_id: c.root_agent_id });
  add(
    'max_live_descendants_per_root',
    liveOfRoot.length + 1,
    `root agent ${c.root_agent_id} has ${liveOfRoot.length} live descendants`,
  );
  if (c.spawned_by_run_id !== null) {
    const ofRun = await countSpawnsOfRun(db, c.spawned_by_run_id);
    add('max_spawns_per_run', ofRun + 1, `run ${c.spawned_by_run_id} already spawned ${ofRun} agents`);
  }
  const liveAll = await liveChildAgents(db);
  add('max_live_sidechains_global', liveAll.length + 1, `${liveAll.length} sidechains are live daemon-wide`);
  const liveOfSession = await liveChildAgents(db, { parent_session_id: c.parent_session_id });
  add(
    'max_live_sidechains_per_session',
    liveOfSession.length + 1,
    `session ${c.parent_session_id} has ${liveOfSession.length} live sidechains`,
  );

  const since = c.now - policy.spawn_rate_window_ms;
  const window = `in the last ${policy.spawn_rate_window_ms} ms`;
  const ofSession = await spawnsSince(db, since, { parent_session_id: c.parent_session_id });
  add(
    'max_spawns_per_session_window',
    ofSession.count + 1,
    `session ${c.parent_session_id} spawned ${ofSession.count} agents ${window}`,
    true,
  );
  const ofProfile = await spawnsSince(db, since, { profile: c.profile });
  add(
    'max_spawns_per_profile_window',
    ofProfile.count + 1,
    `${ofProfile.count} \`${c.profile}\` agents were spawned ${window}`,
    true,
  );
  const global = await spawnsSince(db, since);
  // No projects yet: every spawn belongs to the one implicit project, so it is bounded like global.
  add(
    'max_spawns_per_project_window',
    global.count + 1,
    `${global.count} agents were spawned ${window}`,
    true,
  );
  add('max_spawns_global_window', global.count + 1, `${global.count} agents were spawned ${window}`, true);
  add(
    'max_spawn_cost_microusd_per_window',
    global.cost_microusd + policy.estimated_spawn_cost_microusd,
    `estimated spawn cost ${window} is ${global.cost_microusd} µUSD (+${policy.estimated_spawn_cost_microusd} for this one)`,
    true,
  );
  add(
    'max_spawn_cpu_ms_per_window',
    global.cpu_ms + policy.estimated_spawn_cpu_ms,
    `estimated spawn CPU ${window} is ${global.cpu_ms} ms (+${policy.estimated_spawn_cpu_ms} for this one)`,
    true,
  );

  add(
    'max_spawn_input_tokens_per_request',
    c.input_tokens_estimate,
    `the subtask is about ${c.input_tokens_estimate} input tokens`,
  );
  if (c.max_output_tokens !== null)
    add(
      'max_spawn_output_tokens_per_request',
      c.max_output_tokens,
      `the child asks for max_output_tokens ${c.max_output_tokens}`,
    );

  // Model budget of the whole tree (root and every descendant), spent so far.
  const tree = [c.root_session_id, ...(await listChildAgents(db, c.root_agent_id)).map((a) => a.session_id)];
  let outputTokens = 0;
  let costUsd = 0;
  for (const raw of await usageOfSessions(db, tree)) {
    const u = JSON.parse(raw ?? '{}') as { output_tokens?: number; cost_usd?: number };
    outputTokens += u.output_tokens ?? 0;
    costUsd += u.cost_usd ?? 0;
  }
  const spent = (quota: keyof SubagentPolicy, observed: number, detail: string) => {
    // A budget is "used up" when spending reached it; the spawn itself adds nothing measurable yet.
    checks.push({ quota, limit: policy[quota], observed, ok: observed < policy[quota], detail });
  };
  spent(
    'model_budget_max_total_output_tokens',
    outputTokens,
    `the agent tree of ${c.root_agent_id} used ${outputTokens} output tokens`,
  );
  spent(
    'model_budget_max_total_cost_usd',
    Math.round(costUsd * 1e6) / 1e6,
    `the agent tree of ${c.root_agent_id} spent ${costUsd.toFixed(6)} USD`,
  );
  return checks;
}

export function quotaDenied(check: QuotaCheck): DaemonError {
  const headers: Record<string, string> = {};
  if (check.retry_after_ms !== undefined)
    headers['retry-after'] = String(Math.ceil(check.retry_after_ms / 1000));
  return new DaemonError(
    429,
    'subagent_policy',
    'spawn_policy_denied',
    `spawn denied by ${check.quota} (limit ${check.limit}): ${check.detail}`,
    headers,
  );
}

/** A rough token estimate for per-request caps (about four characters per token). */
export const estimateTokens = (text: string): number => Math.ceil(text.length / 4);
