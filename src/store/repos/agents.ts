// Child-agent rows (sidechains) and the agent-tree queries behind /v1/agents and spawn quotas.
// Primary agents are not stored here: a session row is its primary agent (sessions.agent_id).
import type { AgentsTable, Executor, SessionsTable } from '../schema.ts';
import { readCounters } from './counters.ts';
import { LIVE_STATUSES } from './runs.ts';

export type AgentRow = AgentsTable;

const n = (v: number | null): number | null => (v === null ? null : Number(v));

const normalize = (r: AgentRow): AgentRow => ({
  ...r,
  depth: Number(r.depth),
  est_cost_microusd: Number(r.est_cost_microusd),
  est_cpu_ms: Number(r.est_cpu_ms),
  spawned_at_ms: Number(r.spawned_at_ms),
  updated_at_ms: Number(r.updated_at_ms),
  settled_at_ms: n(r.settled_at_ms),
  closed_at_ms: n(r.closed_at_ms),
  orphaned_at_ms: n(r.orphaned_at_ms),
});

const normalizeSession = (r: SessionsTable): SessionsTable => ({
  ...r,
  created_at_ms: Number(r.created_at_ms),
  updated_at_ms: Number(r.updated_at_ms),
  ended_at_ms: n(r.ended_at_ms),
});

export async function insertAgent(db: Executor, row: AgentRow): Promise<void> {
  await db.insertInto('agents').values(row).execute();
}

export async function updateAgent(db: Executor, agentId: string, patch: Partial<AgentRow>): Promise<void> {
  await db.updateTable('agents').set(patch).where('agent_id', '=', agentId).execute();
}

export async function getAgent(db: Executor, agentId: string): Promise<AgentRow | undefined> {
  const r = await db.selectFrom('agents').selectAll().where('agent_id', '=', agentId).executeTakeFirst();
  return r && normalize(r);
}

export async function getAgentBySession(db: Executor, sessionId: string): Promise<AgentRow | undefined> {
  const r = await db.selectFrom('agents').selectAll().where('session_id', '=', sessionId).executeTakeFirst();
  return r && normalize(r);
}

export async function findSpawn(
  db: Executor,
  parentAgentId: string,
  spawnRequestId: string,
): Promise<AgentRow | undefined> {
  const r = await db
    .selectFrom('agents')
    .selectAll()
    .where('parent_agent_id', '=', parentAgentId)
    .where('spawn_request_id', '=', spawnRequestId)
    .executeTakeFirst();
  return r && normalize(r);
}

/** The session of any agent, primary or child (every agent has exactly one). */
export async function sessionOfAgent(db: Executor, agentId: string): Promise<SessionsTable | undefined> {
  const r = await db.selectFrom('sessions').selectAll().where('agent_id', '=', agentId).executeTakeFirst();
  return r && normalizeSession(r);
}

/** The session of a child agent's parent (undefined for a primary agent's session). */
export async function parentSessionOf(db: Executor, sessionId: string): Promise<SessionsTable | undefined> {
  const r = await db
    .selectFrom('agents')
    .innerJoin('sessions', 'sessions.session_id', 'agents.parent_session_id')
    .selectAll('sessions')
    .where('agents.session_id', '=', sessionId)
    .executeTakeFirst();
  return r && normalizeSession(r);
}

/**
 * Whether any descendant agent of a session (children, their children, …; closed ones excluded)
 * has a queued, running or waiting run: "live descendant work" of the topology idle rule.
 */
export async function hasLiveDescendant(db: Executor, sessionId: string): Promise<boolean> {
  let frontier = [sessionId];
  for (let depth = 0; frontier.length && depth < 64; depth++) {
    const children = await db
      .selectFrom('agents')
      .select('session_id')
      .where('parent_session_id', 'in', frontier)
      .where('closed_at_ms', 'is', null)
      .execute();
    if (!children.length) return false;
    const live = await db
      .selectFrom('runs')
      .select('run_id')
      .where(
        'session_id',
        'in',
        children.map((c) => c.session_id),
      )
      .where('status', 'in', [...LIVE_STATUSES])
      .limit(1)
      .executeTakeFirst();
    if (live) return true;
    frontier = children.map((c) => c.session_id);
  }
  return false;
}

export async function childrenOf(db: Executor, parentAgentId: string): Promise<AgentRow[]> {
  const rows = await db
    .selectFrom('agents')
    .selectAll()
    .where('parent_agent_id', '=', parentAgentId)
    .orderBy('spawned_at_ms', 'asc')
    .orderBy('agent_id', 'asc')
    .execute();
  return rows.map(normalize);
}

/** Every child agent, oldest first (optionally one root's tree). */
export async function listChildAgents(db: Executor, rootAgentId?: string): Promise<AgentRow[]> {
  let q = db.selectFrom('agents').selectAll();
  if (rootAgentId !== undefined) q = q.where('root_agent_id', '=', rootAgentId);
  const rows = await q.orderBy('spawned_at_ms', 'asc').orderBy('agent_id', 'asc').execute();
  return rows.map(normalize);
}

/** Sessions that are primary agents (not the session of a child), ordered by agent id. */
export async function primarySessions(db: Executor): Promise<SessionsTable[]> {
  const rows = await db
    .selectFrom('sessions')
    .selectAll()
    .where('session_id', 'not in', db.selectFrom('agents').select('session_id'))
    .orderBy('agent_id', 'asc')
    .execute();
  return rows.map(normalizeSession);
}

/** Children with live work: not closed, with a queued, running or waiting run in their session. */
export async function liveChildAgents(
  db: Executor,
  by: { parent_agent_id?: string; root_agent_id?: string; parent_session_id?: string } = {},
): Promise<AgentRow[]> {
  let q = db
    .selectFrom('agents')
    .selectAll('agents')
    .where('agents.closed_at_ms', 'is', null)
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('runs')
          .select('runs.run_id')
          .whereRef('runs.session_id', '=', 'agents.session_id')
          .where('runs.status', 'in', [...LIVE_STATUSES]),
      ),
    );
  if (by.parent_agent_id !== undefined) q = q.where('agents.parent_agent_id', '=', by.parent_agent_id);
  if (by.root_agent_id !== undefined) q = q.where('agents.root_agent_id', '=', by.root_agent_id);
  if (by.parent_session_id !== undefined) q = q.where('agents.parent_session_id', '=', by.parent_session_id);
  return (await q.execute()).map(normalize);
}

export interface SpawnWindowTotals {
  count: number;
  cost_microusd: number;
  cpu_ms: number;
}

/** Spawns since `sinceMs`, optionally per parent session or profile, with their spend estimates. */
export async function spawnsSince(
  db: Executor,
  sinceMs: number,
  by: { parent_session_id?: string; profile?: string } = {},
): Promise<SpawnWindowTotals> {
  let q = db
    .selectFrom('agents')
    .select([
      (eb) => eb.fn.countAll().as('n'),
      (eb) => eb.fn.sum('est_cost_microusd').as('cost'),
      (eb) => eb.fn.sum('est_cpu_ms').as('cpu'),
    ])
    .where('spawned_at_ms', '>', sinceMs);
  if (by.parent_session_id !== undefined) q = q.where('parent_session_id', '=', by.parent_session_id);
  if (by.profile !== undefined) q = q.where('profile', '=', by.profile);
  const r = await q.executeTakeFirst();
  return { count: Number(r?.n ?? 0), cost_microusd: Number(r?.cost ?? 0), cpu_ms: Number(r?.cpu ?? 0) };
}

export async function countSpawnsOfRun(db: Executor, runId: string): Promise<number> {
  const r = await db
    .selectFrom('agents')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('spawned_by_run_id', '=', runId)
    .executeTakeFirst();
  return Number(r?.n ?? 0);
}

/** The usage JSON of every run of these sessions (model budget of an agent tree). */
export async function usageOfSessions(db: Executor, sessionIds: string[]): Promise<Array<string | null>> {
  if (sessionIds.length === 0) return [];
  const rows = await db
    .selectFrom('runs')
    .select('usage')
    .where('session_id', 'in', sessionIds)
    .where('usage', 'is not', null)
    // A fixed order: callers sum doubles, equal on every dialect only in the same order.
    .orderBy('queue_seq', 'asc')
    .execute();
  return rows.map((r) => r.usage);
}

/** Journal entries of a session and how many of them are compaction checkpoints. */
export async function journalCounts(
  db: Executor,
  sessionId: string,
): Promise<{ entries: number; checkpoints: number }> {
  const r = await db
    .selectFrom('journal')
    .select([
      (eb) => eb.fn.countAll().as('n'),
      (eb) => eb.fn.sum(eb.case().when('kind', '=', 'compaction_boundary').then(1).else(0).end()).as('c'),
    ])
    .where('session_id', '=', sessionId)
    .executeTakeFirst();
  return { entries: Number(r?.n ?? 0), checkpoints: Number(r?.c ?? 0) };
}

/** Child agents, closed ones and orphaned ones, from the counters (migration 0011). */
export async function agentCounts(
  db: Executor,
): Promise<{ children: number; closed: number; orphaned: number }> {
  const c = await readCounters(db, 'agents:');
  return { children: c.get('total') ?? 0, closed: c.get('closed') ?? 0, orphaned: c.get('orphaned') ?? 0 };
}

/**
 * How many `liveChildAgents(db)` would return, found from the live runs (the runs_status index)
 * rather than from every agent ever spawned: O(live runs), whatever the history.
 */
export async function countLiveChildAgents(db: Executor): Promise<number> {
  const r = await db
    .selectFrom((eb) =>
      eb
        .selectFrom('runs')
        .select('runs.session_id')
        .distinct()
        .where('runs.status', 'in', [...LIVE_STATUSES])
        .as('live'),
    )
    .innerJoin('agents', 'agents.session_id', 'live.session_id')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('agents.closed_at_ms', 'is', null)
    .executeTakeFirst();
  return Number(r?.n ?? 0);
}
