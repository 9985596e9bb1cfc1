// Counters behind GET /v1/status, kept by triggers in the transaction that changes the rows, so
// the status answers from a few dozen counter rows instead of counting and summing the history,
// stays exact across crashes (a counter commits or rolls back with its row) and needs no engine
// code. Also: indexes for session- and run-filtered event replays.
//
// Counter names (the read side is src/store/repos/counters.ts):
//   runs:status:<status>            runs by status
//   runs:usage:<field>              summed `runs.usage` JSON; cost as integer nano-USD
//                                   (`runs:usage:cost_nanousd`), so sums stay exact
//   sessions:total, sessions:ended, sessions:primary (sessions that are no child agent's)
//   tasks:<kind>:<status>           tasks by kind and status
//   approvals:<status>, questions:<status>
//   agents:total, agents:closed, agents:orphaned
//   schedules:status:<status>, schedules:in_flight, schedules:queued_fires, schedules:retrying
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Migration } from 'kysely/migration';
import { type CounterSyntax, type CounterTrigger, ddlOf } from '../dialect.ts';
import { USAGE_COUNTER_NAMES, USAGE_INT_FIELDS } from '../usage-fields.ts';

export { USAGE_INT_FIELDS } from '../usage-fields.ts';

/** The triggers and backfill in one dialect's syntax (`d`): the same counters on SQLite and PostgreSQL. */
function counterSql(d: CounterSyntax) {
  const { bump, field, nano, valid, isNot } = d;
  const isSet = (col: string) => d.int(`${col} IS NOT NULL`);

  /** One UPDATE over the usage rows (the backfill creates them): `+= usage(next) - usage(prev)`. */
  function usageDelta(next: string, prev: string): string {
    const cases = [
      ...USAGE_INT_FIELDS.map((f) => `WHEN 'runs:usage:${f}' THEN ${field('n.j', f)} - ${field('o.j', f)}`),
      `WHEN 'runs:usage:cost_nanousd' THEN ${nano('n.j')} - ${nano('o.j')}`,
    ];
    return `UPDATE counters SET value = value + CASE counters.name ${cases.join(' ')} ELSE 0 END
    FROM (SELECT ${valid(next)} AS j) AS n, (SELECT ${valid(prev)} AS j) AS o
    WHERE counters.name IN (${USAGE_COUNTER_NAMES.map((n) => `'${n}'`).join(', ')});`;
  }

  const trigger = (name: string, on: string, body: string[], when?: string): CounterTrigger => ({
    name,
    on,
    table: /ON (\w+)$/.exec(on)![1]!,
    body,
    ...(when ? { when } : {}),
  });

  const primaryOf = (sessionId: string) =>
    d.int(`NOT EXISTS (SELECT 1 FROM agents WHERE agents.session_id = ${sessionId})`);
  const hasSession = (sessionId: string) =>
    d.int(`EXISTS (SELECT 1 FROM sessions WHERE sessions.session_id = ${sessionId})`);

  const triggers: CounterTrigger[] = [
    // runs: status and usage
    trigger('counters_runs_insert', 'AFTER INSERT ON runs', [
      bump(`'runs:status:' || NEW.status`, '1'),
      usageDelta('NEW.usage', 'NULL'),
    ]),
    trigger(
      'counters_runs_status',
      'AFTER UPDATE OF status ON runs',
      [bump(`'runs:status:' || OLD.status`, '-1'), bump(`'runs:status:' || NEW.status`, '1')],
      isNot('OLD.status', 'NEW.status'),
    ),
    trigger(
      'counters_runs_usage',
      'AFTER UPDATE OF usage ON runs',
      [usageDelta('NEW.usage', 'OLD.usage')],
      isNot('OLD.usage', 'NEW.usage'),
    ),
    trigger('counters_runs_delete', 'AFTER DELETE ON runs', [
      bump(`'runs:status:' || OLD.status`, '-1'),
      usageDelta('NULL', 'OLD.usage'),
    ]),
    // sessions: total, ended, primary (not a child agent's session)
    trigger('counters_sessions_insert', 'AFTER INSERT ON sessions', [
      bump(`'sessions:total'`, '1'),
      bump(`'sessions:ended'`, isSet('NEW.ended_at_ms')),
      bump(`'sessions:primary'`, primaryOf('NEW.session_id')),
    ]),
    trigger('counters_sessions_ended', 'AFTER UPDATE OF ended_at_ms ON sessions', [
      bump(`'sessions:ended'`, `${isSet('NEW.ended_at_ms')} - ${isSet('OLD.ended_at_ms')}`),
    ]),
    trigger('counters_sessions_delete', 'AFTER DELETE ON sessions', [
      bump(`'sessions:total'`, '-1'),
      bump(`'sessions:ended'`, `-${isSet('OLD.ended_at_ms')}`),
      bump(`'sessions:primary'`, `-${primaryOf('OLD.session_id')}`),
    ]),
    // tasks by kind and status
    trigger('counters_tasks_insert', 'AFTER INSERT ON tasks', [
      bump(`'tasks:' || NEW.kind || ':' || NEW.status`, '1'),
    ]),
    trigger(
      'counters_tasks_update',
      'AFTER UPDATE OF kind, status ON tasks',
      [
        bump(`'tasks:' || OLD.kind || ':' || OLD.status`, '-1'),
        bump(`'tasks:' || NEW.kind || ':' || NEW.status`, '1'),
      ],
      `${isNot('OLD.status', 'NEW.status')} OR ${isNot('OLD.kind', 'NEW.kind')}`,
    ),
    trigger('counters_tasks_delete', 'AFTER DELETE ON tasks', [
      bump(`'tasks:' || OLD.kind || ':' || OLD.status`, '-1'),
    ]),
    // approvals and questions by status
    ...['approvals', 'questions'].flatMap((t) => [
      trigger(`counters_${t}_insert`, `AFTER INSERT ON ${t}`, [bump(`'${t}:' || NEW.status`, '1')]),
      trigger(
        `counters_${t}_status`,
        `AFTER UPDATE OF status ON ${t}`,
        [bump(`'${t}:' || OLD.status`, '-1'), bump(`'${t}:' || NEW.status`, '1')],
        isNot('OLD.status', 'NEW.status'),
      ),
      trigger(`counters_${t}_delete`, `AFTER DELETE ON ${t}`, [bump(`'${t}:' || OLD.status`, '-1')]),
    ]),
    // child agents; a child's session stops being primary whichever row commits first
    trigger('counters_agents_insert', 'AFTER INSERT ON agents', [
      bump(`'agents:total'`, '1'),
      bump(`'agents:closed'`, isSet('NEW.closed_at_ms')),
      bump(`'agents:orphaned'`, isSet('NEW.orphaned_at_ms')),
      bump(`'sessions:primary'`, `-${hasSession('NEW.session_id')}`),
    ]),
    trigger('counters_agents_update', 'AFTER UPDATE OF closed_at_ms, orphaned_at_ms ON agents', [
      bump(`'agents:closed'`, `${isSet('NEW.closed_at_ms')} - ${isSet('OLD.closed_at_ms')}`),
      bump(`'agents:orphaned'`, `${isSet('NEW.orphaned_at_ms')} - ${isSet('OLD.orphaned_at_ms')}`),
    ]),
    trigger('counters_agents_session', 'AFTER UPDATE OF session_id ON agents', [
      bump(`'sessions:primary'`, `${hasSession('OLD.session_id')} - ${hasSession('NEW.session_id')}`),
    ]),
    trigger('counters_agents_delete', 'AFTER DELETE ON agents', [
      bump(`'agents:total'`, '-1'),
      bump(`'agents:closed'`, `-${isSet('OLD.closed_at_ms')}`),
      bump(`'agents:orphaned'`, `-${isSet('OLD.orphaned_at_ms')}`),
      bump(`'sessions:primary'`, hasSession('OLD.session_id')),
    ]),
    // schedules: status and the activity columns
    ...scheduleTriggers(),
  ];

  function scheduleTriggers(): CounterTrigger[] {
    const activity = [
      ['in_flight', 'in_flight_run_id'],
      ['queued_fires', 'queued_fire_at_ms'],
      ['retrying', 'scheduler_retry_after_ms'],
    ] as const;
    const add = (row: 'NEW' | 'OLD', sign: '' | '-') => [
      bump(`'schedules:status:' || ${row}.status`, `${sign}1`),
      ...activity.map(([n, col]) => bump(`'schedules:${n}'`, `${sign}${isSet(`${row}.${col}`)}`)),
    ];
    return [
      trigger('counters_schedules_insert', 'AFTER INSERT ON schedules', add('NEW', '')),
      trigger(
        'counters_schedules_update',
        `AFTER UPDATE OF status, ${activity.map(([, c]) => c).join(', ')} ON schedules`,
        [...add('OLD', '-'), ...add('NEW', '')],
      ),
      trigger('counters_schedules_delete', 'AFTER DELETE ON schedules', add('OLD', '-')),
    ];
  }

  /** The counters as they should be for the rows already there (the same names the triggers use). */
  const backfill: string[] = [
    `INSERT INTO counters (name, value) SELECT 'runs:status:' || status, count(*) FROM runs GROUP BY status`,
    // One pass over the runs for every usage sum.
    `WITH s AS MATERIALIZED (SELECT ${[
      ...USAGE_INT_FIELDS.map((f) => `coalesce(sum(${field('j', f)}), 0) AS ${f}`),
      `coalesce(sum(${nano('j')}), 0) AS cost_nanousd`,
    ].join(', ')} FROM (SELECT ${valid('usage')} AS j FROM runs WHERE usage IS NOT NULL) AS u)
     INSERT INTO counters (name, value) ${[...USAGE_INT_FIELDS, 'cost_nanousd']
       .map((f) => `SELECT 'runs:usage:${f}', ${f} FROM s`)
       .join(' UNION ALL ')}`,
    `INSERT INTO counters (name, value) SELECT 'sessions:total', count(*) FROM sessions`,
    `INSERT INTO counters (name, value) SELECT 'sessions:ended', count(ended_at_ms) FROM sessions`,
    `INSERT INTO counters (name, value) SELECT 'sessions:primary', count(*) FROM sessions
       WHERE session_id NOT IN (SELECT session_id FROM agents)`,
    `INSERT INTO counters (name, value) SELECT 'tasks:' || kind || ':' || status, count(*) FROM tasks GROUP BY kind, status`,
    `INSERT INTO counters (name, value) SELECT 'approvals:' || status, count(*) FROM approvals GROUP BY status`,
    `INSERT INTO counters (name, value) SELECT 'questions:' || status, count(*) FROM questions GROUP BY status`,
    `INSERT INTO counters (name, value) SELECT 'agents:total', count(*) FROM agents`,
    `INSERT INTO counters (name, value) SELECT 'agents:closed', count(closed_at_ms) FROM agents`,
    `INSERT INTO counters (name, value) SELECT 'agents:orphaned', count(orphaned_at_ms) FROM agents`,
    `INSERT INTO counters (name, value) SELECT 'schedules:status:' || status, count(*) FROM schedules GROUP BY status`,
    `INSERT INTO counters (name, value) SELECT 'schedules:in_flight', count(in_flight_run_id) FROM schedules`,
    `INSERT INTO counters (name, value) SELECT 'schedules:queued_fires', count(queued_fire_at_ms) FROM schedules`,
    `INSERT INTO counters (name, value) SELECT 'schedules:retrying', count(scheduler_retry_after_ms) FROM schedules`,
  ];

  return { triggers, backfill };
}

async function createCounters(db: Kysely<any>): Promise<void> {
  const ddl = ddlOf(db);
  const { triggers, backfill } = counterSql(ddl.counterSyntax);
  // Kysely runs SQLite migrations outside a transaction and records them afterwards: a crash in
  // between leaves this migration to run again, so it starts from nothing every time.
  for (const t of triggers) await sql.raw(ddl.dropTrigger(t)).execute(db);
  await db.schema.dropTable('counters').ifExists().execute();
  await db.schema
    .createTable('counters')
    .addColumn('name', ddl.counterNameType, (c) => c.primaryKey())
    .addColumn('value', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  for (const stmt of ddl.counterHelpers) await sql.raw(stmt).execute(db);
  // Backfill, then triggers, in one transaction: no write can fall between the two.
  for (const stmt of backfill) await sql.raw(stmt).execute(db);
  for (const t of triggers) for (const stmt of ddl.createTrigger(t)) await sql.raw(stmt).execute(db);
  await db.schema
    .createIndex('events_session')
    .ifNotExists()
    .on('events')
    .columns(['session_id', 'id'])
    .execute();
  await db.schema.createIndex('events_run').ifNotExists().on('events').columns(['run_id', 'id']).execute();
}

export const m0011counters: Migration = {
  async up(db: Kysely<any>) {
    if (db.isTransaction) await createCounters(db);
    else await db.transaction().execute((trx) => createCounters(trx));
  },
};
