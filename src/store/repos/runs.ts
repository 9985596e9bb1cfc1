// Run rows: the only SQL about runs. Status changes go through engine/run-states.ts.

import type { Executor, RunsTable } from '../schema.ts';
import { USAGE_INT_FIELDS } from '../usage-fields.ts';
import { countsOf, readCounters } from './counters.ts';

export type RunRow = RunsTable;

export const LIVE_STATUSES = [
  'queued',
  'running',
  'waiting_for_approval',
  'waiting_for_user_question',
] as const;
export const ACTIVE_STATUSES = ['running', 'waiting_for_approval', 'waiting_for_user_question'] as const;
export const TERMINAL_STATUSES = ['completed', 'failed', 'interrupted', 'cancelled'] as const;
export const ALL_STATUSES = [...LIVE_STATUSES, ...TERMINAL_STATUSES] as const;

const normalize = (r: RunRow): RunRow => ({
  ...r,
  queue_seq: Number(r.queue_seq),
  submitted_at_ms: Number(r.submitted_at_ms),
  updated_at_ms: Number(r.updated_at_ms),
  started_at_ms: r.started_at_ms === null ? null : Number(r.started_at_ms),
  finished_at_ms: r.finished_at_ms === null ? null : Number(r.finished_at_ms),
});

export async function insertRun(db: Executor, row: RunRow): Promise<void> {
  await db.insertInto('runs').values(row).execute();
}

export async function getRun(db: Executor, runId: string): Promise<RunRow | undefined> {
  const r = await db.selectFrom('runs').selectAll().where('run_id', '=', runId).executeTakeFirst();
  return r && normalize(r);
}

export async function updateRun(db: Executor, runId: string, patch: Partial<RunRow>): Promise<void> {
  await db.updateTable('runs').set(patch).where('run_id', '=', runId).execute();
}

export async function nextQueueSeq(db: Executor): Promise<number> {
  const r = await db
    .selectFrom('runs')
    .select((eb) => eb.fn.max('queue_seq').as('max'))
    .executeTakeFirst();
  return Number(r?.max ?? 0) + 1;
}

/**
 * A session's live runs in queue order. Sorted here, not in SQL: an ORDER BY makes SQLite walk
 * every run of the session by queue_seq, while this uses (session_id, status) and reads only
 * the few live rows, whatever the session's history.
 */
export async function liveRunsOfSession(db: Executor, sessionId: string): Promise<RunRow[]> {
  const rows = await db
    .selectFrom('runs')
    .selectAll()
    .where('session_id', '=', sessionId)
    .where('status', 'in', [...LIVE_STATUSES])
    .execute();
  return rows.map(normalize).sort((a, b) => a.queue_seq - b.queue_seq);
}

export async function allLiveRuns(db: Executor): Promise<RunRow[]> {
  const rows = await db
    .selectFrom('runs')
    .selectAll()
    .where('status', 'in', [...LIVE_STATUSES])
    .orderBy('queue_seq', 'asc')
    .execute();
  return rows.map(normalize);
}

export async function findByIdempotency(
  db: Executor,
  sessionId: string,
  keyHash: string,
): Promise<RunRow | undefined> {
  const r = await db
    .selectFrom('runs')
    .selectAll()
    .where('session_id', '=', sessionId)
    .where('idempotency_key_hash', '=', keyHash)
    .executeTakeFirst();
  return r && normalize(r);
}

export async function lastFinishedRun(db: Executor, sessionId: string): Promise<RunRow | undefined> {
  const r = await db
    .selectFrom('runs')
    .selectAll()
    .where('session_id', '=', sessionId)
    .where('status', 'in', [...TERMINAL_STATUSES])
    .orderBy('queue_seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  return r && normalize(r);
}

export interface RunListQuery {
  session_id?: string;
  order: 'asc' | 'desc';
  /** Keyset cursor: the queue_seq of the last item of the previous page. */
  after_seq?: number;
  limit: number;
}

export async function listRuns(db: Executor, q: RunListQuery): Promise<{ rows: RunRow[]; total: number }> {
  let base = db.selectFrom('runs');
  if (q.session_id !== undefined) base = base.where('session_id', '=', q.session_id);
  const totalRow = await base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
  let sel = base.selectAll();
  if (q.after_seq !== undefined) sel = sel.where('queue_seq', q.order === 'asc' ? '>' : '<', q.after_seq);
  const rows = await sel.orderBy('queue_seq', q.order).limit(q.limit).execute();
  return { rows: rows.map(normalize), total: Number(totalRow?.n ?? 0) };
}

/** Where a priority listing stopped: the group (live first), then updated_at_ms and queue_seq, descending. */
export interface PriorityKey {
  live: boolean;
  updated_at_ms: number;
  queue_seq: number;
}

const byPriority = (a: RunRow, b: RunRow) => b.updated_at_ms - a.updated_at_ms || b.queue_seq - a.queue_seq;
const afterKey = (r: RunRow, k: PriorityKey) =>
  r.updated_at_ms < k.updated_at_ms || (r.updated_at_ms === k.updated_at_ms && r.queue_seq < k.queue_seq);

/**
 * `priority_active=true`: live runs first (read through the status index; there are few), then the
 * others, each most recently updated first, `limit` rows after `after`. The terminal part is one
 * ordered query with a limit, so the database keeps only the top rows instead of us reading all.
 */
export async function listRunsByPriority(
  db: Executor,
  q: { session_id?: string; limit: number; after?: PriorityKey },
): Promise<{ rows: RunRow[]; total: number }> {
  let base = db.selectFrom('runs');
  if (q.session_id !== undefined) base = base.where('session_id', '=', q.session_id);
  const totalRow = await base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
  const total = Number(totalRow?.n ?? 0);
  const rows: RunRow[] = [];
  if (q.after === undefined || q.after.live) {
    const live = (
      await base
        .selectAll()
        .where('status', 'in', [...LIVE_STATUSES])
        .execute()
    )
      .map(normalize)
      .filter((r) => q.after === undefined || afterKey(r, q.after))
      .sort(byPriority);
    rows.push(...live.slice(0, q.limit));
  }
  if (rows.length < q.limit) {
    let rest = base.selectAll().where('status', 'not in', [...LIVE_STATUSES]);
    const k = q.after;
    if (k !== undefined && !k.live)
      rest = rest.where((eb) =>
        eb.or([
          eb('updated_at_ms', '<', k.updated_at_ms),
          eb.and([eb('updated_at_ms', '=', k.updated_at_ms), eb('queue_seq', '<', k.queue_seq)]),
        ]),
      );
    const more = await rest
      .orderBy('updated_at_ms', 'desc')
      .orderBy('queue_seq', 'desc')
      .limit(q.limit - rows.length)
      .execute();
    rows.push(...more.map(normalize));
  }
  return { rows, total };
}

/** Runs by status, from the counters (migration 0011): every known status, then any other present. */
export async function countRunsByStatus(db: Executor): Promise<Record<string, number>> {
  return countsOf(await readCounters(db, 'runs:status:'), ALL_STATUSES);
}

/** What GET /v1/status needs of one live run: its age and when it last moved. */
export interface LiveRunTiming {
  run_id: string;
  session_id: string;
  status: string;
  submitted_at_ms: number;
  /** The later of its last status change and its last run event (a step, a tool call, …). */
  activity_at_ms: number;
}

/**
 * Live runs only, through the status index, each with one index seek for its last run event
 * (`run_events(run_id, id)`): the cost follows the live work, never the history.
 */
export async function liveRunTimings(db: Executor): Promise<LiveRunTiming[]> {
  const rows = await db
    .selectFrom('runs')
    .select(['runs.run_id', 'runs.session_id', 'runs.status', 'runs.submitted_at_ms', 'runs.updated_at_ms'])
    .select((eb) =>
      eb
        .selectFrom('run_events')
        .select('run_events.timestamp_ms')
        .whereRef('run_events.run_id', '=', 'runs.run_id')
        .orderBy('run_events.id', 'desc')
        .limit(1)
        .as('last_event_ms'),
    )
    .where('runs.status', 'in', [...LIVE_STATUSES])
    .execute();
  return rows.map((r) => ({
    run_id: r.run_id,
    session_id: r.session_id,
    status: r.status,
    submitted_at_ms: Number(r.submitted_at_ms),
    activity_at_ms: Math.max(Number(r.updated_at_ms), Number(r.last_event_ms ?? 0)),
  }));
}

export const isLive = (status: string): boolean => (LIVE_STATUSES as readonly string[]).includes(status);
export const isActive = (status: string): boolean => (ACTIVE_STATUSES as readonly string[]).includes(status);
export const isTerminal = (status: string): boolean =>
  (TERMINAL_STATUSES as readonly string[]).includes(status);

export async function usageRowsOfSession(
  db: Executor,
  sessionId: string,
): Promise<
  Array<{ run_id: string; usage: string | null; started_at_ms: number | null; finished_at_ms: number | null }>
> {
  const rows = await db
    .selectFrom('runs')
    .select(['run_id', 'usage', 'started_at_ms', 'finished_at_ms'])
    .where('session_id', '=', sessionId)
    // A fixed order: the usage is a sum of doubles, equal on every dialect only in the same order.
    .orderBy('queue_seq', 'asc')
    .execute();
  return rows.map((r) => ({
    run_id: r.run_id,
    usage: r.usage,
    started_at_ms: r.started_at_ms === null ? null : Number(r.started_at_ms),
    finished_at_ms: r.finished_at_ms === null ? null : Number(r.finished_at_ms),
  }));
}

/**
 * The usage of every run summed (fields of engine/budgets.ts RunUsage), from the counters. Cost is
 * counted in integer nano-USD, so the sum is exact and equals adding the runs' costs rounded to 1e-9.
 */
export async function runUsageTotals(db: Executor): Promise<Record<string, number>> {
  const c = await readCounters(db, 'runs:usage:');
  const out: Record<string, number> = {};
  for (const f of USAGE_INT_FIELDS) out[f] = c.get(f) ?? 0;
  out.cost_usd = (c.get('cost_nanousd') ?? 0) / 1e9;
  return out;
}

/** Live (queued, running or waiting) runs pinned to a route: a runtime route is not removed under them. */
export async function countLiveRunsOnRoute(db: Executor, routeId: string): Promise<number> {
  const row = await db
    .selectFrom('runs')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('route_id', '=', routeId)
    .where('status', 'in', [...LIVE_STATUSES])
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}
