// Raw row writes on every table the status counters follow (runs, sessions, tasks, approvals,
// questions, agents, schedules), for the counter tests: a small key space so that updates and
// deletes hit existing rows, constraint failures happen (a failed statement must leave the
// counters alone), and usage texts look like the engine's (costs rounded to 1e-9 by addUsage).
import type Database from 'better-sqlite3';
import fc from 'fast-check';
import { addUsage, emptyUsage } from '../../src/engine/budgets.ts';
import { ALL_STATUSES } from '../../src/store/repos/runs.ts';

type Db = InstanceType<typeof Database>;

export interface Op {
  t: (typeof OP_KINDS)[number];
  /** Which row (a small key space). */
  k: number;
  /** The variant: status, flags, usage... picked from `v` by each op. */
  v: number;
}

const OP_KINDS = [
  'session',
  'session_end',
  'session_delete',
  'run',
  'run_status',
  'run_usage',
  'run_delete',
  'task',
  'task_update',
  'task_delete',
  'approval',
  'approval_status',
  'approval_delete',
  'question',
  'question_status',
  'question_delete',
  'agent',
  'agent_update',
  'agent_session',
  'agent_delete',
  'schedule',
  'schedule_update',
  'schedule_delete',
] as const;

export const opArb: fc.Arbitrary<Op> = fc.record({
  t: fc.constantFrom(...OP_KINDS),
  k: fc.nat({ max: 3 }),
  v: fc.nat({ max: 1_000_000 }),
});

const RUN_STATUSES = [...ALL_STATUSES];
const TASK_STATUSES = ['pending', 'in_progress', 'blocked', 'completed', 'failed', 'cancelled'];
const TASK_KINDS = ['work', 'shell'];
const APPROVAL_STATUSES = ['pending', 'allowed', 'denied'];
const QUESTION_STATUSES = ['pending', 'answered', 'declined', 'cancelled', 'expired'];
const SCHEDULE_STATUSES = ['active', 'paused', 'completed', 'canceled'];

const pick = <T>(xs: readonly T[], v: number): T => xs[v % xs.length]!;
const bit = (v: number, i: number) => Math.floor(v / 2 ** i) % 2 === 1;

/** A usage text as the engine writes it (or none, a partial one, or, rarely, no JSON at all). */
export function usageText(v: number): string | null {
  if (v % 11 === 0) return null;
  if (v % 97 === 1) return '{broken';
  const input = v % 5000;
  const output = (v >> 3) % 700;
  // Prices per million tokens like the pricing table's: doubles that do not add up exactly.
  const cost = (input * 0.3 + output * 2.5) / 1e6;
  const u = addUsage(emptyUsage(), {
    model_calls: 1 + (v % 4),
    input_tokens: input,
    output_tokens: output,
    cached_input_tokens: v % 3 === 0 ? input >> 1 : 0,
    total_tokens: input + output,
    cost_usd: cost,
    unpriced_calls: v % 7 === 0 ? 1 : 0,
  });
  if (v % 13 === 2) return JSON.stringify({ model_calls: u.model_calls, cost_usd: u.cost_usd });
  return JSON.stringify(u);
}

/** Applies one write; constraint failures are part of the game and are swallowed. */
export function applyOp(db: Db, op: Op): void {
  const [sql, args] = statementOf(op);
  try {
    db.prepare(sql).run(...args);
  } catch (err) {
    if (!/constraint/i.test(String(err))) throw err;
  }
}

/** The SQL (`?` placeholders) and arguments of one op, for any dialect. */
export function statementOf(op: Op): [string, unknown[]] {
  const { k, v } = op;
  const s = `s-${k}`;
  const run = `run-${k}`;
  const x = (sql: string, ...args: unknown[]): [string, unknown[]] => [sql, args];
  switch (op.t) {
    case 'session':
      return x(
        'insert into sessions (session_id, agent_id, created_at_ms, updated_at_ms, ended_at_ms) values (?, ?, 1, 1, ?)',
        s,
        `agent-${k}`,
        bit(v, 0) ? v : null,
      );
    case 'session_end':
      return x(
        'update sessions set ended_at_ms = ?, updated_at_ms = 2 where session_id = ?',
        bit(v, 0) ? v : null,
        s,
      );
    case 'session_delete':
      return x('delete from sessions where session_id = ?', s);
    case 'run':
      return x(
        `insert into runs (run_id, session_id, agent_id, kind, status, queue_seq, submitted_at_ms, updated_at_ms,
           request, summary, route_id, model, usage) values (?, ?, 'a', 'input', ?, ?, 1, 1, '{}', '', 'r', 'm', ?)`,
        run,
        pick(['s-0', 's-1', 's-2'], v),
        pick(RUN_STATUSES, v),
        k,
        usageText(v),
      );
    case 'run_status':
      return x(
        'update runs set status = ?, updated_at_ms = ? where run_id = ?',
        pick(RUN_STATUSES, v),
        v,
        run,
      );
    case 'run_usage':
      // Sometimes together with the status, as one statement of a step would.
      return bit(v, 4)
        ? x(
            'update runs set usage = ?, status = ? where run_id = ?',
            usageText(v),
            pick(RUN_STATUSES, v >> 5),
            run,
          )
        : x('update runs set usage = ? where run_id = ?', usageText(v), run);
    case 'run_delete':
      return x('delete from runs where run_id = ?', run);
    case 'task':
      return x(
        `insert into tasks (task_id, session_id, kind, title, description, status, metadata, created_at_ms, updated_at_ms)
           values (?, 's-0', ?, 't', '', ?, '{}', 1, 1)`,
        `task-${k}`,
        pick(TASK_KINDS, v),
        pick(TASK_STATUSES, v >> 1),
      );
    case 'task_update':
      return bit(v, 0)
        ? x(
            'update tasks set status = ?, updated_at_ms = 2 where task_id = ?',
            pick(TASK_STATUSES, v >> 1),
            `task-${k}`,
          )
        : x('update tasks set kind = ? where task_id = ?', pick(TASK_KINDS, v >> 1), `task-${k}`);
    case 'task_delete':
      return x('delete from tasks where task_id = ?', `task-${k}`);
    case 'approval':
      return x(
        `insert into approvals (request_id, run_id, session_id, tool_call_id, tool_name, input, scope, reason, status,
           created_at_ms) values (?, ?, 's-0', 'c', 'bash', '{}', 'call', 'r', ?, 1)`,
        `approval-${k}`,
        run,
        pick(APPROVAL_STATUSES, v),
      );
    case 'approval_status':
      return x(
        'update approvals set status = ? where request_id = ?',
        pick(APPROVAL_STATUSES, v),
        `approval-${k}`,
      );
    case 'approval_delete':
      return x('delete from approvals where request_id = ?', `approval-${k}`);
    case 'question':
      return x(
        `insert into questions (request_id, run_id, session_id, tool_call_id, request, status, created_at_ms)
           values (?, ?, 's-0', 'c', '{}', ?, 1)`,
        `question-${k}`,
        run,
        pick(QUESTION_STATUSES, v),
      );
    case 'question_status':
      return x(
        'update questions set status = ? where request_id = ?',
        pick(QUESTION_STATUSES, v),
        `question-${k}`,
      );
    case 'question_delete':
      return x('delete from questions where request_id = ?', `question-${k}`);
    case 'agent':
      // The child's session may exist already, come later, or never (a key of its own).
      return x(
        `insert into agents (agent_id, session_id, parent_agent_id, parent_session_id, root_agent_id, depth, name, path,
           profile, retention, permission_mode, tool_surface, inheritance, est_cost_microusd, est_cpu_ms,
           spawned_at_ms, updated_at_ms, closed_at_ms, orphaned_at_ms)
         values (?, ?, 'agent-0', 's-0', 'agent-0', 1, 'n', 'p', 'general', 'retain', 'default', '[]', '{}', 0, 0, 1, 1, ?, ?)`,
        `child-${k}`,
        `s-${v % 6}`,
        bit(v, 4) ? v : null,
        bit(v, 5) ? v : null,
      );
    case 'agent_update':
      return x(
        'update agents set closed_at_ms = ?, orphaned_at_ms = ?, updated_at_ms = 2 where agent_id = ?',
        bit(v, 0) ? v : null,
        bit(v, 1) ? v : null,
        `child-${k}`,
      );
    case 'agent_session':
      return x('update agents set session_id = ? where agent_id = ?', `s-${v % 6}`, `child-${k}`);
    case 'agent_delete':
      return x('delete from agents where agent_id = ?', `child-${k}`);
    case 'schedule':
      return x(
        `insert into schedules (schedule_id, name, target_session_id, status, cadence, overlap_policy, misfire_policy,
           request, created_at_ms, updated_at_ms, next_fire_at_ms, in_flight_run_id, queued_fire_at_ms,
           scheduler_retry_after_ms) values (?, 'n', 's-0', ?, '{}', 'skip', 'skip', '{}', 1, 1, ?, ?, ?, ?)`,
        `schedule-${k}`,
        pick(SCHEDULE_STATUSES, v),
        bit(v, 2) ? v : null,
        bit(v, 3) ? run : null,
        bit(v, 4) ? v : null,
        bit(v, 5) ? v : null,
      );
    case 'schedule_update':
      return x(
        `update schedules set status = ?, in_flight_run_id = ?, queued_fire_at_ms = ?, scheduler_retry_after_ms = ?,
           next_fire_at_ms = ? where schedule_id = ?`,
        pick(SCHEDULE_STATUSES, v),
        bit(v, 3) ? run : null,
        bit(v, 4) ? v : null,
        bit(v, 5) ? v : null,
        bit(v, 6) ? v : null,
        `schedule-${k}`,
      );
    case 'schedule_delete':
      return x('delete from schedules where schedule_id = ?', `schedule-${k}`);
  }
}

/** A varied history in one transaction: `n` random writes with a fixed seed. */
export function seedRows(db: Db, n: number): void {
  const ops = fc.sample(opArb, { numRuns: n, seed: 42 });
  // Sessions and runs first so that most updates find a row.
  const first: Op[] = [];
  for (let k = 0; k < 4; k++) {
    first.push({ t: 'session', k, v: k * 7919 }, { t: 'run', k, v: k * 104_729 + 3 });
    first.push({ t: 'agent', k, v: k * 31 + 16 });
  }
  db.transaction(() => {
    for (const op of [...first, ...ops]) applyOp(db, op);
  })();
}
