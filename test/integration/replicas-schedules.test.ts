// Schedules with two replicas on one PostgreSQL database (issue 11): both replicas run the
// scheduler timer and both look at every schedule (wherever it was created), so each occurrence is
// raced; its claim re-checks the schedule inside the write that creates the run, so each occurrence
// gives exactly one run, one execution record, and the schedule counts it once. Always on
// PostgreSQL (a fresh schema), whatever KHEISH_TEST_STORE says.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { waitFor } from '../crash/crash-kit.ts';
import { http, type TestDaemon } from '../helpers/daemon.ts';
import { type ReplicaPair, startReplicaPair } from '../helpers/replica-pair.ts';
import { jsonColumn, queryState } from '../helpers/state-query.ts';

/** The shortest interval a schedule may have (schedule-plan.ts MIN_INTERVAL_SECONDS). */
const EVERY_SECONDS = 5;
const OCCURRENCES = 3;
const SCHEDULES = 4;

let pair: ReplicaPair;
let a: TestDaemon;
let b: TestDaemon;

before(async () => {
  pair = await startReplicaPair({ args: ['--lease-ttl-ms', '1000'] });
  ({ a, b } = pair);
});

after(() => pair?.stop());

const until = <T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000) =>
  waitFor(what, probe, ms, 200);

test('every occurrence of a schedule fires exactly once while both replicas run their scheduler', async () => {
  const made: Array<{ id: string; sid: string }> = [];
  for (let i = 0; i < SCHEDULES; i++) {
    // Created on either replica: the other one learns of it from the database, not from a wake-up.
    const on = i % 2 === 0 ? a : b;
    const sid = `sched-replicas-${i}`;
    assert.equal((await http(on.url, 'POST', '/v1/sessions', { session_id: sid })).status, 201);
    const created = await http(on.url, 'POST', '/v1/schedules', {
      name: `every-${EVERY_SECONDS}s-${i}`,
      target_session_id: sid,
      cadence: { type: 'interval', every_seconds: EVERY_SECONDS },
      max_executions: OCCURRENCES,
      request: { content: `tick ${i}` },
    });
    assert.equal(created.status, 201, created.text);
    made.push({ id: created.body.schedule_id, sid });
  }
  for (const { id, sid } of made) {
    // Read through the replica that did not create it, once every run of it has settled.
    const view = await until(`schedule ${id} to complete and settle`, async () => {
      const s = (await http(b.url, 'GET', `/v1/schedules/${id}`)).body;
      const settled = s.recent_executions.filter((e: any) => e.status === 'settled').length;
      return s.status === 'completed' && settled === OCCURRENCES ? s : undefined;
    });
    assert.equal(view.execution_count, OCCURRENCES, 'the schedule counted each occurrence once');
    const executions = view.recent_executions;
    assert.equal(
      executions.length,
      OCCURRENCES,
      `one execution record per occurrence: ${JSON.stringify(executions)}`,
    );
    const fires = executions.map((e: any) => e.fire_at_ms);
    assert.equal(new Set(fires).size, OCCURRENCES, 'distinct occurrences');
    for (let i = 1; i < fires.length; i++) assert.equal(fires[i] - fires[i - 1], EVERY_SECONDS * 1000);
    assert.ok(executions.every((e: any) => e.run_status === 'completed'));
    const runs = await queryState<{ run_id: string; kind: string; request: unknown }>(
      a,
      'select run_id, kind, request from runs where session_id = ? order by queue_seq',
      [sid],
    );
    assert.equal(runs.length, OCCURRENCES, `one run per occurrence: ${runs.map((r) => r.run_id).join(', ')}`);
    assert.ok(runs.every((r) => r.kind === 'scheduled_input'));
    assert.deepEqual(
      runs.map((r) => jsonColumn(r.request).metadata.scheduled_for_ms),
      fires,
      'each run is the occurrence its execution names',
    );
    assert.deepEqual(runs.map((r) => r.run_id).sort(), executions.map((e: any) => e.run_id).sort());
  }
});
