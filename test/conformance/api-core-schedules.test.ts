// api-core §15 "Tasks, schedules, agents" items 75-76 (schedules), plus the create validation codes.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { assertProblem, createSession, SCRIPT } from './support.ts';

let d: TestDaemon;
let base: string;
let session: string;

before(async () => {
  d = await startDaemon({ script: SCRIPT });
  base = d.url;
  session = await createSession(base, 'sched-conf');
});

after(async () => {
  await d?.stop();
  await d?.cleanup();
});

const valid = (extra: Record<string, unknown> = {}) => ({
  name: 'conformance',
  target_session_id: session,
  cadence: { type: 'interval', every_seconds: 3600 },
  request: { content: 'tick' },
  ...extra,
});

test('api-core #75: interval below 5 s and both/neither payloads are 400; a valid request is 201 with schedule_id and next_fire_at_ms', async () => {
  assertProblem(
    await http(base, 'POST', '/v1/schedules', valid({ cadence: { type: 'interval', every_seconds: 4 } })),
    400,
    'schedules',
    'invalid_cadence',
    'every_seconds 4',
  );
  assertProblem(
    await http(
      base,
      'POST',
      '/v1/schedules',
      valid({ observation_materialization: { target_session_id: session } }),
    ),
    400,
    'schedules',
    'invalid_schedule_payload',
    'both payloads',
  );
  const { request: _r, ...neither } = valid();
  assertProblem(
    await http(base, 'POST', '/v1/schedules', neither),
    400,
    'schedules',
    'invalid_schedule_payload',
    'neither',
  );

  const before = Date.now();
  const res = await http(base, 'POST', '/v1/schedules', valid());
  assert.equal(res.status, 201, res.text);
  assert.equal(typeof res.body.schedule_id, 'string');
  assert.equal(typeof res.body.next_fire_at_ms, 'number');
  assert.ok(res.body.next_fire_at_ms >= before + 3_600_000, 'first interval fire is one period away');
  assert.equal(res.body.status, 'active');
  assert.deepEqual(res.body.cadence, { type: 'interval', every_seconds: 3600 });
  assert.equal(res.body.overlap_policy, 'skip');
  assert.deepEqual(res.body.misfire_policy, { type: 'coalesce_once' });
  assert.deepEqual(res.body.recent_executions, []);
  for (const k of [
    'queued_fire_at_ms',
    'in_flight_run_id',
    'last_fire_at_ms',
    'last_error',
    'max_executions',
  ])
    assert.ok(k in res.body, `${k} is part of ScheduleView`);
  const got = await http(base, 'GET', `/v1/schedules/${res.body.schedule_id}`);
  assert.equal(got.status, 200);
  assert.equal(got.body.schedule_id, res.body.schedule_id);
});

test('api-core #76: pause, resume, trigger, cancel answer 200 with a top-level schedule; unknown ids are 404 schedules/schedule_not_found', async () => {
  const id = (await http(base, 'POST', '/v1/schedules', valid())).body.schedule_id;
  const expect: Array<[string, string]> = [
    ['pause', 'paused'],
    ['resume', 'active'],
    ['trigger', 'active'],
    ['cancel', 'canceled'],
  ];
  for (const [action, status] of expect) {
    const res = await http(base, 'POST', `/v1/schedules/${id}/${action}`);
    assert.equal(res.status, 200, `${action}: ${res.text}`);
    assert.equal(res.body.schedule.schedule_id, id, action);
    assert.equal(res.body.schedule.status, status, action);
  }
  for (const action of ['pause', 'resume', 'trigger', 'cancel'])
    assertProblem(
      await http(base, 'POST', `/v1/schedules/schedule-unknown/${action}`),
      404,
      'schedules',
      'schedule_not_found',
      action,
    );
  assertProblem(
    await http(base, 'GET', '/v1/schedules/schedule-unknown'),
    404,
    'schedules',
    'schedule_not_found',
  );
  // Terminal schedules refuse further moves.
  assertProblem(
    await http(base, 'POST', `/v1/schedules/${id}/resume`),
    409,
    'schedules',
    'schedule_state_conflict',
  );
});

test('api-core #76: trigger creates a scheduled_input run stamped with the schedule', async () => {
  const id = (await http(base, 'POST', '/v1/schedules', valid())).body.schedule_id;
  const res = await http(base, 'POST', `/v1/schedules/${id}/trigger`);
  assert.equal(res.status, 200, res.text);
  const runId = res.body.schedule.last_dispatched_run_id;
  const run = await http(base, 'GET', `/v1/runs/${runId}`);
  assert.equal(run.body.kind, 'scheduled_input');
  assert.equal(run.body.session_id, session);
  assert.equal(run.body.input_metadata.schedule_id, id);
  assert.equal(typeof run.body.input_metadata.scheduled_for_ms, 'number');
  assert.equal(run.body.request.source_plugin, 'scheduler');
  assert.equal(run.body.request.actor_id, id);
});

test('create validation: every invalid shape is a schedules-domain 400 with its own code', async () => {
  const cases: Array<[string, Record<string, unknown>, string, number?, string?]> = [
    ['max_executions 0', valid({ max_executions: 0 }), 'invalid_max_executions'],
    ['bad cron', valid({ cadence: { type: 'cron', expression: 'every day' } }), 'invalid_cadence'],
    ['5-field cron', valid({ cadence: { type: 'cron', expression: '0 9 * * *' } }), 'invalid_cadence'],
    [
      'cron faster than 5 s',
      valid({ cadence: { type: 'cron', expression: '*/2 * * * * *' } }),
      'invalid_cadence',
    ],
    [
      'unknown timezone',
      valid({ cadence: { type: 'cron', expression: '0 0 9 * * *', timezone: 'Nowhere/Land' } }),
      'invalid_timezone',
    ],
    ['unknown cadence type', valid({ cadence: { type: 'weekly' } }), 'invalid_cadence'],
    ['unknown overlap policy', valid({ overlap_policy: 'queue_all' }), 'invalid_overlap_policy'],
    ['unknown misfire policy', valid({ misfire_policy: { type: 'replay_all' } }), 'invalid_misfire_policy'],
    [
      'catch_up without a sane max',
      valid({ misfire_policy: { type: 'catch_up', max: 0 } }),
      'invalid_misfire_policy',
    ],
    ['empty name', valid({ name: ' ' }), 'invalid_schedule_request'],
    ['unknown field', valid({ colour: 'blue' }), 'invalid_schedule_request'],
    ['empty request', valid({ request: { content: '' } }), 'invalid_schedule_request'],
    [
      'observation for another session',
      { ...valid(), request: undefined, observation_materialization: { target_session_id: 'other' } },
      'observation_target_mismatch',
    ],
    [
      'observation materialization without a selection',
      { ...valid(), request: undefined, observation_materialization: { target_session_id: session } },
      'invalid_schedule_request',
    ],
    ['unknown route', valid({ request: { content: 'x', provider: 'nope' } }), 'unknown_route', 400, 'routes'],
    [
      'unknown session',
      valid({ target_session_id: 'no-such-session' }),
      'session_not_found',
      404,
      'sessions',
    ],
  ];
  for (const [what, body, code, status = 400, domain = 'schedules'] of cases)
    assertProblem(await http(base, 'POST', '/v1/schedules', body), status, domain, code, what);
  assertProblem(await http(base, 'POST', '/v1/schedules', '{'), 400, undefined, 'bad_request', 'not JSON');
});

test('GET /v1/schedules filters by session and paginates with order schedule_id_asc', async () => {
  const other = await createSession(base, 'sched-conf-other');
  const ids: string[] = [];
  for (let i = 0; i < 3; i++)
    ids.push(
      (await http(base, 'POST', '/v1/schedules', valid({ target_session_id: other }))).body.schedule_id,
    );
  const legacy = await http(base, 'GET', `/v1/schedules?session_id=${other}`);
  assert.ok(Array.isArray(legacy.body));
  assert.deepEqual(
    legacy.body.map((s: any) => s.schedule_id),
    ids,
  );
  const p1 = await http(base, 'GET', `/v1/schedules?session_id=${other}&page=true&limit=2`);
  assert.deepEqual(
    p1.body.items.map((s: any) => s.schedule_id),
    ids.slice(0, 2),
  );
  assert.equal(p1.body.pagination.total_count, 3);
  assert.equal(p1.body.pagination.has_more, true);
  assert.equal(p1.body.pagination.order, 'schedule_id_asc');
  const p2 = await http(
    base,
    'GET',
    `/v1/schedules?session_id=${other}&cursor=${p1.body.pagination.next_cursor}&limit=2`,
  );
  assert.deepEqual(
    p2.body.items.map((s: any) => s.schedule_id),
    ids.slice(2),
  );
  assert.equal(p2.body.pagination.has_more, false);
  assertProblem(await http(base, 'GET', '/v1/schedules?limit=0'), 400, 'pagination', 'invalid_limit');
  assertProblem(await http(base, 'GET', '/v1/schedules?cursor=!!!'), 400, 'pagination', 'invalid_cursor');
});

test('GET /v1/runtime shows scheduler_policy; GET /v1/status counts schedules', async () => {
  const rt = await http(base, 'GET', '/v1/runtime');
  assert.deepEqual(
    Object.fromEntries(
      ['retry_base_delay_ms', 'retry_max_delay_ms', 'retry_jitter_ms', 'retry_max_attempts'].map((k) => [
        k,
        rt.body.scheduler_policy[k],
      ]),
    ),
    { retry_base_delay_ms: 500, retry_max_delay_ms: 30_000, retry_jitter_ms: 250, retry_max_attempts: 0 },
  );
  const st = await http(base, 'GET', '/v1/status');
  for (const k of ['total', 'active', 'paused', 'completed', 'canceled'])
    assert.equal(typeof st.body.schedules[k], 'number', k);
  assert.ok(st.body.schedules.canceled >= 1);
  assert.deepEqual(st.body.runtime.scheduler_policy, rt.body.scheduler_policy);
});
