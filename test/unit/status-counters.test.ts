// The status counters of migration 0011: the triggers keep them equal to a fresh COUNT/SUM of the
// rows through any mix of inserts, updates, deletes, failed statements and rolled-back
// transactions; the migration backfills a database created before it; the repo reads give what
// the former GROUP BY queries gave (GET /v1/status keeps its values byte for byte).
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { Migrator } from 'kysely/migration';
import { addUsage, emptyUsage } from '../../src/engine/budgets.ts';
import { m0011counters } from '../../src/store/migrations/0011-counters.ts';
import { migrationProvider } from '../../src/store/migrations/index.ts';
import { agentCounts } from '../../src/store/repos/agents.ts';
import { countPendingApprovals, countPendingQuestions } from '../../src/store/repos/approvals.ts';
import { countRunsByStatus, runUsageTotals } from '../../src/store/repos/runs.ts';
import { countSchedulesByStatus, scheduleActivityCounts } from '../../src/store/repos/schedules.ts';
import { countSessions } from '../../src/store/repos/sessions.ts';
import { countTasksByStatus } from '../../src/store/repos/tasks.ts';
import { openSqlite } from '../../src/store/sqlite/open.ts';
import { Store } from '../../src/store/store.ts';
import { applyOp, type Op, opArb, seedRows } from '../helpers/counters-ops.ts';
import {
  actualCounters,
  expectedCounters,
  legacyStatusCounts,
  legacyUsageTotal,
  openStateDb,
} from '../helpers/counters-oracle.ts';
import { tempDir } from '../helpers/daemon.ts';

/** The repo reads behind GET /v1/status next to what the former queries computed. */
async function assertStatusReads(stateRoot: string): Promise<void> {
  const store = await Store.open({ stateRoot });
  const raw = openStateDb(stateRoot);
  try {
    const legacy = legacyStatusCounts(raw);
    const db = store.db;
    assert.deepEqual(await countRunsByStatus(db), legacy.runs);
    // Same keys in the same order, and the very same doubles (cost included).
    assert.deepEqual({ ...emptyUsage(), ...(await runUsageTotals(db)) }, legacy.usage);
    assert.equal(
      JSON.stringify({ ...emptyUsage(), ...(await runUsageTotals(db)) }),
      JSON.stringify(legacy.usage),
    );
    const sessions = await countSessions(db);
    assert.deepEqual({ total: sessions.total, ended: sessions.ended }, legacy.sessions);
    assert.equal(sessions.primary, legacy.agents.primary_count);
    assert.deepEqual(await countTasksByStatus(db), legacy.tasks);
    const agents = await agentCounts(db);
    assert.deepEqual(
      [agents.children, agents.closed, agents.orphaned],
      [legacy.agents.sidechain_count, legacy.agents.closed_count, legacy.agents.orphaned_count],
    );
    assert.equal(await countPendingApprovals(db), legacy.pending_approval_count);
    assert.equal(await countPendingQuestions(db), legacy.pending_question_count);
    const schedules = raw
      .prepare('select status, count(*) as n from schedules group by status')
      .all() as Array<{ status: string; n: number }>;
    const byStatus: Record<string, number> = { active: 0, paused: 0, completed: 0, canceled: 0 };
    for (const r of schedules) byStatus[r.status] = r.n;
    assert.deepEqual(await countSchedulesByStatus(db), byStatus);
    const activity = raw
      .prepare(
        `select count(in_flight_run_id) as in_flight, count(queued_fire_at_ms) as queued_fires,
           count(scheduler_retry_after_ms) as retrying,
           (select min(next_fire_at_ms) from schedules where status = 'active') as next_fire_at_ms from schedules`,
      )
      .get();
    assert.deepEqual({ ...(await scheduleActivityCounts(db)) }, { ...(activity as object) });
  } finally {
    raw.close();
    await store.close();
  }
}

test('migration 0011 backfills the counters from the rows of a database created before it', async () => {
  const root = tempDir('kheish-counters-');
  try {
    const handle = openSqlite(root);
    const migrator = new Migrator({
      db: handle.db,
      provider: migrationProvider,
      allowUnorderedMigrations: true,
    });
    const { error } = await migrator.migrateTo('0010_permission_audits');
    assert.ifError(error);
    await handle.close();
    const raw = openStateDb(root);
    seedRows(raw, 400);
    assert.equal(
      (raw.prepare("select count(*) as n from sqlite_master where name = 'counters'").get() as { n: number })
        .n,
      0,
      'a database from before the migration',
    );
    raw.close();

    await assertStatusReads(root); // Store.open migrates to the latest
    const db = openStateDb(root);
    try {
      const expected = expectedCounters(db);
      assert.ok(
        expected['runs:usage:cost_nanousd']! > 0 && expected['sessions:primary']! > 0,
        'a varied history',
      );
      assert.deepEqual(actualCounters(db), expected);
    } finally {
      db.close();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('migration 0011 run again (a crash before Kysely recorded it) rebuilds the same counters', async () => {
  const root = tempDir('kheish-counters-');
  try {
    const store = await Store.open({ stateRoot: root });
    const raw = openStateDb(root);
    seedRows(raw, 100);
    const before = actualCounters(raw);
    assert.deepEqual(before, expectedCounters(raw));
    await m0011counters.up(store.db);
    assert.deepEqual(actualCounters(raw), before);
    // The triggers are back too.
    applyOp(raw, { t: 'run_status', k: 0, v: 3 });
    assert.deepEqual(actualCounters(raw), expectedCounters(raw));
    raw.close();
    await store.close();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the triggers keep every counter equal to a fresh COUNT/SUM through random writes and rollbacks', async () => {
  const root = tempDir('kheish-counters-');
  try {
    await (await Store.open({ stateRoot: root })).close();
    const db = openStateDb(root);
    db.pragma('synchronous = OFF');
    const wipe = db.transaction(() => {
      for (const t of ['runs', 'sessions', 'tasks', 'approvals', 'questions', 'agents', 'schedules'])
        db.exec(`delete from ${t}`);
    });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.array(opArb, { minLength: 1, maxLength: 40 }), fc.boolean()), {
          minLength: 1,
          maxLength: 10,
        }),
        (chunks: Array<[Op[], boolean]>) => {
          for (const [ops, commit] of chunks) {
            db.exec('begin');
            for (const op of ops) applyOp(db, op);
            db.exec(commit ? 'commit' : 'rollback');
            assert.deepEqual(actualCounters(db), expectedCounters(db));
          }
          wipe();
          // Deleting every row brings every counter back to zero (the usage rows stay, at 0).
          assert.deepEqual(actualCounters(db), {});
        },
      ),
      {
        numRuns: Number(process.env.KHEISH_COUNTERS_RUNS ?? 100),
        seed: Number(process.env.KHEISH_SEED ?? Date.now()),
      },
    );
    db.close();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a malformed usage text is counted as no usage instead of failing the run write', async () => {
  const root = tempDir('kheish-counters-');
  try {
    const store = await Store.open({ stateRoot: root });
    const db = openStateDb(root);
    applyOp(db, { t: 'session', k: 1, v: 0 });
    applyOp(db, { t: 'run', k: 1, v: 1 });
    db.prepare("update runs set usage = '{not json' where run_id = 'run-1'").run();
    assert.deepEqual(actualCounters(db), expectedCounters(db));
    db.prepare(
      `update runs set usage = '{"model_calls":2,"input_tokens":5,"total_tokens":5,"cost_usd":0.1}' where run_id = 'run-1'`,
    ).run();
    assert.deepEqual(actualCounters(db), expectedCounters(db));
    const totals = await runUsageTotals(store.db);
    assert.equal(totals.model_calls, 2);
    assert.equal(totals.cost_usd, addUsage(emptyUsage(), { cost_usd: 0.1 }).cost_usd);
    assert.deepEqual({ ...emptyUsage(), ...totals }, legacyUsageTotal(db));
    db.close();
    await store.close();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
