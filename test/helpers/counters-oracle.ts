// What the status counters (migration 0011) must hold, recomputed from the rows with plain
// COUNT/GROUP BY queries and the status code's former JavaScript usage sum, straight from a
// state root's SQLite file. Tests compare the maintained counters and GET /v1/status with this.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { addUsage, emptyUsage, type RunUsage } from '../../src/engine/budgets.ts';
import { ALL_STATUSES } from '../../src/store/repos/runs.ts';

type Db = InstanceType<typeof Database>;

export const openStateDb = (stateRoot: string): Db =>
  new Database(join(stateRoot, 'kheish.sqlite'), { fileMustExist: true });

const USAGE_INT = [
  'model_calls',
  'input_tokens',
  'output_tokens',
  'cached_input_tokens',
  'total_tokens',
  'unpriced_calls',
] as const;

const parse = (text: string | null): Partial<RunUsage> | null => {
  if (text === null) return null;
  try {
    return JSON.parse(text) as Partial<RunUsage>;
  } catch {
    return null; // the triggers count a malformed usage as none
  }
};

function grouped(db: Db, sql: string, prefix: string, out: Record<string, number>): void {
  for (const r of db.prepare(sql).all() as Array<{ k: string; n: number }>)
    if (r.n !== 0) out[prefix + r.k] = r.n;
}

/** Every counter the triggers should hold, recomputed from the rows (zero counters left out). */
export function expectedCounters(db: Db): Record<string, number> {
  const out: Record<string, number> = {};
  const one = (name: string, sql: string) => {
    const n = (db.prepare(sql).get() as { n: number }).n;
    if (n !== 0) out[name] = n;
  };
  grouped(db, 'select status as k, count(*) as n from runs group by status', 'runs:status:', out);
  const usages = (db.prepare('select usage from runs').all() as Array<{ usage: string | null }>).map((r) =>
    parse(r.usage),
  );
  for (const f of USAGE_INT) {
    const n = usages.reduce((s, u) => s + Number(u?.[f] ?? 0), 0);
    if (n !== 0) out[`runs:usage:${f}`] = n;
  }
  const nano = usages.reduce((s, u) => s + Math.round(Number(u?.cost_usd ?? 0) * 1e9), 0);
  if (nano !== 0) out['runs:usage:cost_nanousd'] = nano;
  one('sessions:total', 'select count(*) as n from sessions');
  one('sessions:ended', 'select count(ended_at_ms) as n from sessions');
  one(
    'sessions:primary',
    'select count(*) as n from sessions where session_id not in (select session_id from agents)',
  );
  grouped(
    db,
    "select kind || ':' || status as k, count(*) as n from tasks group by kind, status",
    'tasks:',
    out,
  );
  grouped(db, 'select status as k, count(*) as n from approvals group by status', 'approvals:', out);
  grouped(db, 'select status as k, count(*) as n from questions group by status', 'questions:', out);
  one('agents:total', 'select count(*) as n from agents');
  one('agents:closed', 'select count(closed_at_ms) as n from agents');
  one('agents:orphaned', 'select count(orphaned_at_ms) as n from agents');
  grouped(db, 'select status as k, count(*) as n from schedules group by status', 'schedules:status:', out);
  one('schedules:in_flight', 'select count(in_flight_run_id) as n from schedules');
  one('schedules:queued_fires', 'select count(queued_fire_at_ms) as n from schedules');
  one('schedules:retrying', 'select count(scheduler_retry_after_ms) as n from schedules');
  // The debug store's totals (migration 0018).
  one('debug:bundles', 'select count(*) as n from debug_bundles');
  one('debug:artifacts', 'select count(*) as n from debug_artifacts');
  one('debug:bytes', 'select coalesce(sum(bytes), 0) as n from debug_artifacts');
  return out;
}

/** The counters table as maintained (zero counters left out). */
export function actualCounters(db: Db): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of db.prepare('select name, value from counters where value <> 0').all() as Array<{
    name: string;
    value: number;
  }>)
    out[r.name] = r.value;
  return out;
}

/** The usage total as the status code summed it before the counters: addUsage over every run. */
export function legacyUsageTotal(db: Db): RunUsage {
  return (
    db.prepare('select usage from runs where usage is not null').all() as Array<{ usage: string }>
  ).reduce((sum, r) => addUsage(sum, JSON.parse(r.usage) as RunUsage), emptyUsage());
}

/** The count sections of GET /v1/status as the former queries computed them (for deepEqual). */
export function legacyStatusCounts(db: Db) {
  const runs: Record<string, number> = {};
  for (const s of ALL_STATUSES) runs[s] = 0;
  grouped(db, 'select status as k, count(*) as n from runs group by status', '', runs);
  const n = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
  const tasks: Record<string, number> = {};
  for (const s of ['pending', 'in_progress', 'blocked', 'completed', 'failed', 'cancelled']) tasks[s] = 0;
  grouped(db, 'select status as k, count(*) as n from tasks group by status', '', tasks);
  const primaries = n(
    'select count(*) as n from sessions where session_id not in (select session_id from agents)',
  );
  const children = n('select count(*) as n from agents');
  return {
    runs,
    pending_approval_count: n("select count(*) as n from approvals where status = 'pending'"),
    pending_question_count: n("select count(*) as n from questions where status = 'pending'"),
    usage: legacyUsageTotal(db),
    sessions: {
      total: n('select count(*) as n from sessions'),
      ended: n('select count(ended_at_ms) as n from sessions'),
    },
    tasks: {
      total: n('select count(*) as n from tasks'),
      ...tasks,
      live_shell_tasks: n(
        "select count(*) as n from tasks where kind = 'shell' and status in ('pending', 'in_progress')",
      ),
    },
    agents: {
      total: primaries + children,
      primary_count: primaries,
      sidechain_count: children,
      live_sidechain_count: n(
        `select count(*) as n from agents a where a.closed_at_ms is null and exists (select 1 from runs r
           where r.session_id = a.session_id and r.status in ('queued', 'running', 'waiting_for_approval', 'waiting_for_user_question'))`,
      ),
      closed_count: n('select count(closed_at_ms) as n from agents'),
      orphaned_count: n('select count(orphaned_at_ms) as n from agents'),
    },
  };
}
