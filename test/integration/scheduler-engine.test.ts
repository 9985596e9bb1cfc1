// The scheduler against the real store and engine, in process, with a controlled clock: firing,
// overlap policies, max_executions, misfire policies, retries, the claim, pause/resume, trigger.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadRoutesFile } from '../../src/config/routes-file.ts';
import { Engine } from '../../src/engine/engine.ts';
import { ExternalAudit } from '../../src/engine/external-audit.ts';
import { MISFIRE_GRACE_MS } from '../../src/engine/schedule-plan.ts';
import { DEFAULT_SCHEDULER_POLICY, Scheduler } from '../../src/engine/scheduler.ts';
import { PersonasService } from '../../src/features/personas/service.ts';
import { SchedulesService } from '../../src/features/schedules/service.ts';
import { SessionsService } from '../../src/features/sessions/service.ts';
import { RouteInventory } from '../../src/models/route-inventory.ts';
import { EventLog } from '../../src/store/event-log.ts';
import { getRun, liveRunsOfSession } from '../../src/store/repos/runs.ts';
import { Store } from '../../src/store/store.ts';
import { ToolRegistry } from '../../src/tools/registry.ts';

const START = Date.parse('2030-01-01T00:00:00Z');
const silent = { info() {}, warn() {}, error() {} };
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const SCRIPT = {
  rules: [{ match: 'hang', turns: [{ hang: true }] }],
  default: { turns: [{ text: 'ok' }] },
};

async function rig(policy = DEFAULT_SCHEDULER_POLICY) {
  const root = mkdtempSync(join(tmpdir(), 'kheish-sched-'));
  writeFileSync(join(root, 'script.json'), JSON.stringify(SCRIPT));
  writeFileSync(
    join(root, 'routes.toml'),
    `version = 1\ndefault_route = "local"\n\n[routes.local]\ndriver = "scripted"\ndefault_model = "scripted"\nscript_file = "script.json"\n\n[routes.remote]\ndriver = "openai"\ndefault_model = "gpt-test"\napi_key_env = "SCHED_TEST_KEY"\nbase_url = "http://127.0.0.1:9/v1"\nmax_retries = 0\n`,
  );
  const env: NodeJS.ProcessEnv = {};
  const store = await Store.open({ stateRoot: join(root, 'state') });
  const events = new EventLog(store, 2048);
  await events.init();
  const engine = new Engine({
    store,
    events,
    routes: new RouteInventory(loadRoutesFile(join(root, 'routes.toml')), { credentials: { env } }),
    tools: new ToolRegistry(),
    workspaceRoot: null,
    maxTurns: 20,
    audit: ExternalAudit.open(root),
    log: silent,
  });
  const clock = { now: START };
  const scheduler = new Scheduler(engine, { timer: false, now: () => clock.now, policy });
  const schedules = new SchedulesService(engine, scheduler);
  const sessions = new SessionsService(engine, new PersonasService(engine, () => false));
  cleanups.push(async () => {
    await engine.drain();
    await store.close();
    rmSync(root, { recursive: true, force: true });
  });
  let n = 0;
  const session = async () => {
    const id = `s${++n}`;
    await sessions.create({ session_id: id });
    return id;
  };
  /** Moves the clock and runs one scheduler pass. */
  const at = async (ms: number) => {
    clock.now = ms;
    await scheduler.tick();
  };
  const create = (body: Record<string, unknown>) =>
    schedules.create({ name: 'test', request: { content: 'tick' }, ...body });
  const settled = async (runId: string) => engine.waitSettled(runId);
  return { engine, scheduler, schedules, session, at, create, settled, clock, env };
}

const every = (s: number) => ({ type: 'interval', every_seconds: s });

test('an interval fires scheduled_input runs stamped with the schedule, and settles them', async () => {
  const r = await rig();
  const sid = await r.session();
  const s = await r.create({ target_session_id: sid, cadence: every(10) });
  assert.equal(s.next_fire_at_ms, START + 10_000);
  await r.at(START + 9_999);
  assert.equal((await r.schedules.get(s.schedule_id)).execution_count, 0, 'nothing before the occurrence');
  await r.at(START + 10_000);
  const fired = await r.schedules.get(s.schedule_id);
  assert.equal(fired.execution_count, 1);
  assert.equal(fired.next_fire_at_ms, START + 20_000);
  const run = await getRun(r.engine.store.db, fired.last_dispatched_run_id);
  assert.equal(run?.kind, 'scheduled_input');
  const req = JSON.parse(run!.request);
  assert.equal(req.source_plugin, 'scheduler');
  assert.equal(req.actor_id, s.schedule_id);
  assert.deepEqual(req.metadata, { schedule_id: s.schedule_id, scheduled_for_ms: START + 10_000 });
  await r.settled(run!.run_id);
  const after = await r.schedules.get(s.schedule_id);
  assert.equal(after.in_flight_run_id, null);
  assert.deepEqual(
    after.recent_executions.map((e: any) => [e.fire_at_ms, e.status, e.run_status]),
    [[START + 10_000, 'settled', 'completed']],
  );
});

test('overlap skip records a skipped fire while the previous run is live', async () => {
  const r = await rig();
  const sid = await r.session();
  const s = await r.create({ target_session_id: sid, cadence: every(10), request: { content: 'hang' } });
  await r.at(START + 10_000);
  const first = (await r.schedules.get(s.schedule_id)).in_flight_run_id;
  await r.at(START + 20_000);
  const v = await r.schedules.get(s.schedule_id);
  assert.equal(v.execution_count, 1);
  assert.equal(v.in_flight_run_id, first);
  const skipped = v.recent_executions.at(-1);
  assert.equal(skipped.status, 'skipped');
  assert.match(skipped.error, /overlap_policy skip/);
  await r.engine.cancel(first);
  const settled = await r.schedules.get(s.schedule_id);
  assert.equal(settled.in_flight_run_id, null);
  assert.equal(settled.consecutive_failures, 1, 'a cancelled run counts as a failure');
});

test('overlap queue_one keeps one pending fire and dispatches it when the run settles', async () => {
  const r = await rig();
  const sid = await r.session();
  const s = await r.create({
    target_session_id: sid,
    cadence: every(10),
    overlap_policy: 'queue_one',
    request: { content: 'hang' },
  });
  await r.at(START + 10_000);
  const first = (await r.schedules.get(s.schedule_id)).in_flight_run_id;
  await r.at(START + 20_000);
  await r.at(START + 30_000);
  let v = await r.schedules.get(s.schedule_id);
  assert.equal(v.queued_fire_at_ms, START + 20_000);
  assert.match(v.recent_executions.at(-1).error, /already queued/);
  await r.engine.cancel(first);
  v = await r.schedules.get(s.schedule_id);
  assert.equal(v.queued_fire_at_ms, null);
  assert.equal(v.execution_count, 2);
  const queued = v.recent_executions.find((e: any) => e.fire_at_ms === START + 20_000);
  assert.equal(queued.from_queued_fire, true);
  assert.equal(queued.status, 'dispatched');
  assert.equal(v.in_flight_run_id, queued.run_id);
});

test('overlap parallel dispatches while the previous run is live (the session queues it)', async () => {
  const r = await rig();
  const sid = await r.session();
  const s = await r.create({
    target_session_id: sid,
    cadence: every(10),
    overlap_policy: 'parallel',
    request: { content: 'hang' },
  });
  await r.at(START + 10_000);
  await r.at(START + 20_000);
  const v = await r.schedules.get(s.schedule_id);
  assert.equal(v.execution_count, 2);
  const live = await liveRunsOfSession(r.engine.store.db, sid);
  assert.deepEqual(live.map((x) => x.status).sort(), ['queued', 'running']);
  await r.engine.cancel(live[0]!.run_id);
  assert.equal(
    (await r.schedules.get(s.schedule_id)).in_flight_run_id,
    live[1]!.run_id,
    'the other fire is still in flight',
  );
});

test('max_executions completes the schedule after the last fire', async () => {
  const r = await rig();
  const sid = await r.session();
  const s = await r.create({ target_session_id: sid, cadence: every(10), max_executions: 2 });
  await r.at(START + 10_000);
  await r.settled((await r.schedules.get(s.schedule_id)).last_dispatched_run_id);
  await r.at(START + 20_000);
  const v = await r.schedules.get(s.schedule_id);
  assert.equal(v.status, 'completed');
  assert.equal(v.execution_count, 2);
  assert.equal(v.next_fire_at_ms, null);
  await r.at(START + 60_000);
  assert.equal((await r.schedules.get(s.schedule_id)).execution_count, 2);
});

test('misfires after a gap: coalesce_once, skip_missed and catch_up', async () => {
  const r = await rig();
  const make = async (misfire_policy: unknown) =>
    r.create({
      target_session_id: await r.session(),
      cadence: every(10),
      misfire_policy,
      overlap_policy: 'parallel',
    });
  const coalesce = await make({ type: 'coalesce_once' });
  const skip = await make({ type: 'skip_missed' });
  const catchUp = await make({ type: 'catch_up', max: 3 });
  // The daemon "was down" from just after creation until 5 occurrences (+ 5 s) later.
  await r.at(START + 55_000);
  const c = await r.schedules.get(coalesce.schedule_id);
  assert.deepEqual(
    c.recent_executions.map((e: any) => [e.fire_at_ms - START, e.status === 'skipped' ? 'skipped' : 'fired']),
    [
      [10_000, 'skipped'],
      [20_000, 'skipped'],
      [30_000, 'skipped'],
      [40_000, 'skipped'],
      [50_000, 'fired'],
    ],
  );
  assert.equal(c.execution_count, 1);
  assert.equal(c.next_fire_at_ms, START + 60_000);
  const sk = await r.schedules.get(skip.schedule_id);
  assert.equal(sk.execution_count, 0);
  assert.equal(sk.recent_executions.length, 5);
  assert.ok(sk.recent_executions.every((e: any) => e.status === 'skipped' && /skip_missed/.test(e.error)));
  assert.equal(sk.next_fire_at_ms, START + 60_000);
  const cu = await r.schedules.get(catchUp.schedule_id);
  assert.equal(cu.execution_count, 3);
  assert.deepEqual(
    cu.recent_executions.filter((e: any) => e.run_id).map((e: any) => e.fire_at_ms - START),
    [30_000, 40_000, 50_000],
  );
  assert.equal(cu.recent_executions.filter((e: any) => e.status === 'skipped').length, 2);
  // Back on time: the next occurrence fires normally for all three.
  await r.at(START + 60_000 + MISFIRE_GRACE_MS - 1);
  for (const id of [coalesce.schedule_id, skip.schedule_id, catchUp.schedule_id])
    assert.equal((await r.schedules.get(id)).next_fire_at_ms, START + 70_000);
});

test('a failed dispatch retries with backoff, then dispatches on the same occurrence', async () => {
  const r = await rig({ ...DEFAULT_SCHEDULER_POLICY, retry_jitter_ms: 0 });
  const sid = await r.session();
  const s = await r.create({
    target_session_id: sid,
    cadence: every(10),
    request: { content: 'x', provider: 'remote' },
  });
  await r.at(START + 10_000);
  let v = await r.schedules.get(s.schedule_id);
  assert.equal(v.scheduler_retry_attempt, 1);
  assert.equal(v.scheduler_retry_after_ms, START + 10_500);
  assert.match(v.last_scheduler_error, /routes\/route_not_ready/);
  assert.equal(v.next_fire_at_ms, START + 10_000, 'the occurrence is not consumed');
  await r.at(START + 10_400);
  assert.equal(
    (await r.schedules.get(s.schedule_id)).scheduler_retry_attempt,
    1,
    'no retry before the backoff',
  );
  await r.at(START + 10_500);
  v = await r.schedules.get(s.schedule_id);
  assert.equal(v.scheduler_retry_attempt, 2);
  assert.equal(v.scheduler_retry_after_ms, START + 11_500);
  assert.deepEqual(
    v.recent_executions.map((e: any) => [e.fire_at_ms, e.status, e.attempt]),
    [[START + 10_000, 'retrying', 2]],
  );
  r.env.SCHED_TEST_KEY = 'sk-test';
  await r.at(START + 11_500);
  v = await r.schedules.get(s.schedule_id);
  assert.equal(v.execution_count, 1);
  assert.equal(v.scheduler_retry_attempt, 0);
  assert.equal(v.scheduler_retry_after_ms, null);
  assert.equal(v.next_fire_at_ms, START + 20_000);
  assert.deepEqual(
    v.recent_executions.map((e: any) => [e.fire_at_ms, e.status, e.attempt]),
    [[START + 10_000, 'dispatched', 2]],
  );
});

test('retry_max_attempts gives an occurrence up and moves to the next one', async () => {
  const r = await rig({ ...DEFAULT_SCHEDULER_POLICY, retry_max_attempts: 2, retry_jitter_ms: 0 });
  const sid = await r.session();
  const s = await r.create({
    target_session_id: sid,
    cadence: every(10),
    request: { content: 'x', provider: 'remote' },
  });
  await r.at(START + 10_000);
  await r.at(START + 10_500);
  await r.at(START + 11_500);
  const v = await r.schedules.get(s.schedule_id);
  assert.equal(v.execution_count, 0);
  assert.equal(v.next_fire_at_ms, START + 20_000);
  assert.equal(v.consecutive_failures, 1);
  assert.deepEqual(
    v.recent_executions.map((e: any) => [e.fire_at_ms, e.status]),
    [[START + 10_000, 'skipped']],
  );
  assert.match(v.recent_executions[0].error, /failed 3 times; gave up/);
});

test('two schedulers on one store claim each occurrence once', async () => {
  const r = await rig();
  const second = new Scheduler(r.engine, { timer: false, now: () => r.clock.now });
  const sid = await r.session();
  const s = await r.create({ target_session_id: sid, cadence: every(10), overlap_policy: 'parallel' });
  r.clock.now = START + 10_000;
  await Promise.all([r.scheduler.tick(), second.tick(), r.scheduler.tick(), second.tick()]);
  const v = await r.schedules.get(s.schedule_id);
  assert.equal(v.execution_count, 1);
  assert.equal(v.recent_executions.length, 1);
});

test('pause keeps the remaining time of an interval; resume restores it; cancel is terminal', async () => {
  const r = await rig();
  const sid = await r.session();
  const s = await r.create({ target_session_id: sid, cadence: every(60) });
  r.clock.now = START + 20_000;
  const paused = (await r.schedules.pause(s.schedule_id)).schedule;
  assert.equal(paused.status, 'paused');
  assert.equal(paused.paused_remaining_ms, 40_000);
  assert.equal(paused.next_fire_at_ms, null);
  assert.equal((await r.schedules.pause(s.schedule_id)).schedule.status, 'paused', 'pause twice is a no-op');
  await r.at(START + 500_000);
  assert.equal((await r.schedules.get(s.schedule_id)).execution_count, 0, 'no fire while paused');
  const resumed = (await r.schedules.resume(s.schedule_id)).schedule;
  assert.equal(resumed.status, 'active');
  assert.equal(resumed.next_fire_at_ms, START + 540_000);
  await assert.rejects(r.schedules.trigger('schedule-nope'), { status: 404, code: 'schedule_not_found' });
  assert.equal((await r.schedules.cancel(s.schedule_id)).schedule.status, 'canceled');
  for (const move of ['pause', 'resume', 'trigger'] as const)
    await assert.rejects(r.schedules[move](s.schedule_id), { status: 409, code: 'schedule_state_conflict' });
});

test('trigger fires now under the overlap policy; a triggered once completes', async () => {
  const r = await rig();
  const sid = await r.session();
  const once = await r.create({
    target_session_id: sid,
    cadence: { type: 'once', fire_at_ms: START + 3_600_000 },
  });
  const t = (await r.schedules.trigger(once.schedule_id)).schedule;
  assert.equal(t.status, 'completed');
  assert.equal(t.execution_count, 1);
  assert.equal(t.recent_executions[0].manual, true);
  const hang = await r.create({
    target_session_id: await r.session(),
    cadence: every(600),
    request: { content: 'hang' },
  });
  await r.schedules.trigger(hang.schedule_id);
  const skipped = (await r.schedules.trigger(hang.schedule_id)).schedule;
  assert.equal(skipped.execution_count, 1);
  assert.equal(skipped.recent_executions.at(-1).status, 'skipped');
  assert.equal(skipped.next_fire_at_ms, START + 600_000, 'the cadence is untouched');
});
