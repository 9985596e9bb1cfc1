// Schedules with an embedded observation materialization (api-core §6.3 "Scheduled runs have kind
// … scheduled_observation_materialization", concepts §4.14 "Schedules use /v1/schedules with an
// embedded materialization request"): checked at creation through the observations feature, and
// each fire selects the observations present at that moment, in the occurrence's transaction.
// Runs on SQLite, and on PostgreSQL with KHEISH_TEST_STORE=postgres.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon, waitForRun } from '../helpers/daemon.ts';
import { sourceBody, upload, uploadBody } from '../helpers/observations.ts';
import { jsonColumn, queryState } from '../helpers/state-query.ts';
import { assertProblem, createSession } from './support.ts';

const SCRIPT = {
  rules: [
    { match: '^Slow digest', turns: [{ delay_ms: 1500, text: 'slow digest done' }] },
    {
      match: 'UNTRUSTED EVIDENCE[\\s\\S]*BEGIN UNTRUSTED OBSERVATIONS [0-9a-f]{16}>>>',
      turns: [{ text: 'framed evidence seen' }],
    },
  ],
  default: { turns: [{ text: 'no framing' }] },
};
const TOKEN = 'scheduled-upload-token-1';

let d: TestDaemon;
let session: string;
const get = (path: string) => http(d.url, 'GET', path);
const post = (path: string, body?: unknown) => http(d.url, 'POST', path, body);

async function inputOf(runId: string): Promise<{ text: string; request: any }> {
  const rows = await queryState(
    d,
    "select payload from journal where run_id = ? and kind = 'input_received' order by seq",
    [runId],
  );
  return jsonColumn(rows[0]!.payload);
}

function scheduleBody(selection: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    name: 'screen-digest',
    target_session_id: session,
    cadence: { type: 'interval', every_seconds: 3600 },
    observation_materialization: {
      target_session_id: session,
      selection,
      request: { content: 'Summarize what changed on screen.' },
      raw_asset_policy: 'never',
    },
    ...extra,
  };
}

async function uploadText(sourceId: string, key: string, n: number, text: string): Promise<string> {
  const res = await upload(d.url, sourceId, TOKEN, uploadBody(key, n, { canonical_text: text }));
  assert.equal(res.status, 201, res.text);
  return res.body.observation_id;
}

/** Triggers a schedule and returns its newest execution record. */
async function trigger(id: string): Promise<any> {
  const res = await post(`/v1/schedules/${id}/trigger`);
  assert.equal(res.status, 200, res.text);
  return res.body.schedule.recent_executions.at(-1);
}

before(async () => {
  d = await startDaemon({ script: SCRIPT });
  session = await createSession(d.url, 'screen-review');
  for (const id of ['screen-s', 'screen-empty', 'screen-closing', 'screen-queue'])
    assert.equal((await post('/v1/observation-sources', sourceBody(id, TOKEN))).status, 201);
  assert.equal(
    (await post('/v1/observation-sources', sourceBody('closed-s', TOKEN, { allow_materialization: false })))
      .status,
    201,
  );
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
});

test('api-core §6.3: each fire of a latest_from_source schedule is a scheduled_observation_materialization run over the observations present at that fire', async () => {
  const first = await uploadText('screen-s', 'f1', 1, 'Build failed: 3 tests red');
  const created = await post(
    '/v1/schedules',
    scheduleBody({ type: 'latest_from_source', source_id: 'screen-s' }),
  );
  assert.equal(created.status, 201, created.text);
  const id = created.body.schedule_id;
  assert.equal(created.body.observation_materialization.selection.source_id, 'screen-s');
  assert.equal(created.body.request.content, 'Summarize what changed on screen.');

  const e1 = await trigger(id);
  assert.equal(e1.status, 'dispatched', JSON.stringify(e1));
  const run1 = await waitForRun(d.url, e1.run_id);
  assert.equal(run1.kind, 'scheduled_observation_materialization');
  assert.equal(run1.status, 'completed', JSON.stringify(run1));
  const in1 = await inputOf(run1.run_id);
  assert.ok(in1.text.startsWith('Summarize what changed on screen.'), 'the instruction comes first');
  assert.match(in1.text, /UNTRUSTED EVIDENCE/);
  assert.ok(
    in1.text.includes(first) && in1.text.includes('Build failed'),
    'the first fire saw the first frame',
  );
  assert.deepEqual(in1.request.metadata.observation_materialization.observation_ids, [first]);
  assert.equal(in1.request.metadata.schedule_id, id);
  assert.equal(in1.request.source_plugin, 'scheduler');
  assert.equal(in1.request.source_kind, 'scheduled_observation_materialization');
  const said = await queryState(
    d,
    "select payload from journal where run_id = ? and kind = 'assistant_message'",
    [run1.run_id],
  );
  assert.ok(JSON.stringify(said.map((r) => jsonColumn(r.payload))).includes('framed evidence seen'));

  // A frame uploaded between two fires is in the second run, not the first.
  const second = await uploadText('screen-s', 'f2', 2, 'Build fixed: all green');
  const e2 = await trigger(id);
  assert.equal(e2.status, 'dispatched', JSON.stringify(e2));
  const run2 = await waitForRun(d.url, e2.run_id);
  assert.equal(run2.kind, 'scheduled_observation_materialization');
  const in2 = await inputOf(run2.run_id);
  assert.deepEqual(in2.request.metadata.observation_materialization.observation_ids, [first, second]);
  assert.ok(in2.text.indexOf('Build failed') < in2.text.indexOf('Build fixed'), 'oldest first');

  const view = (await get(`/v1/schedules/${id}`)).body;
  assert.equal(view.execution_count, 2);
  assert.deepEqual(
    view.recent_executions.map((e: any) => [e.status, e.run_status]),
    [
      ['settled', 'completed'],
      ['settled', 'completed'],
    ],
  );
  const audit = (await get('/v1/observation-audit?event=materialized&source_id=screen-s')).body;
  assert.equal(audit[0].detail.run_id, run2.run_id);
  assert.equal(audit[0].detail.schedule_id, id);
});

test('api-core §6.3: the scheduler timer fires an observation schedule on its own (once, due now)', async () => {
  const obs = await uploadText('screen-s', 'f3', 3, 'Deploy started');
  const created = await post(
    '/v1/schedules',
    scheduleBody(
      { type: 'latest_from_source', source_id: 'screen-s', max_observations: 1 },
      { cadence: { type: 'once', fire_at_ms: Date.now() } },
    ),
  );
  assert.equal(created.status, 201, created.text);
  let view: any;
  for (let i = 0; i < 200; i++) {
    view = (await get(`/v1/schedules/${created.body.schedule_id}`)).body;
    if (view.recent_executions.length > 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(view.recent_executions[0]?.run_id, JSON.stringify(view));
  const run = await waitForRun(d.url, view.recent_executions[0].run_id);
  assert.equal(run.kind, 'scheduled_observation_materialization');
  assert.deepEqual((await inputOf(run.run_id)).request.metadata.observation_materialization.observation_ids, [
    obs,
  ]);
  assert.equal((await get(`/v1/schedules/${created.body.schedule_id}`)).body.status, 'completed');
});

test('api-core §6.3: an empty selection (fail_when_empty) and a source that stopped allowing materialization skip the occurrence with the reason, no run, no retry', async () => {
  const empty = await post(
    '/v1/schedules',
    scheduleBody({ type: 'latest_from_source', source_id: 'screen-empty' }),
  );
  assert.equal(empty.status, 201, empty.text);
  const before = (await get(`/v1/runs?session_id=${session}`)).body.length;
  const skipped = await trigger(empty.body.schedule_id);
  assert.equal(skipped.status, 'skipped');
  assert.equal(skipped.run_id, undefined);
  assert.match(skipped.error, /observations\/empty_observation_selection/);
  const view = (await get(`/v1/schedules/${empty.body.schedule_id}`)).body;
  assert.equal(view.status, 'active');
  assert.equal(view.scheduler_retry_attempt, 0);
  assert.equal(view.scheduler_retry_after_ms, null);
  assert.equal(view.execution_count, 0);

  // fail_when_empty: false runs anyway, with the "nothing matched" notice in the evidence.
  const body = scheduleBody({ type: 'latest_from_source', source_id: 'screen-empty' });
  (body.observation_materialization as any).fail_when_empty = false;
  const anyway = await post('/v1/schedules', body);
  const ran = await trigger(anyway.body.schedule_id);
  assert.equal(ran.status, 'dispatched');
  const runAnyway = await waitForRun(d.url, ran.run_id);
  assert.match((await inputOf(runAnyway.run_id)).text, /no observation matched the selection/);

  await uploadText('screen-closing', 'c1', 10, 'secret screen');
  const closing = await post(
    '/v1/schedules',
    scheduleBody({ type: 'latest_from_source', source_id: 'screen-closing' }),
  );
  assert.equal(closing.status, 201, closing.text);
  const reopened = await post(
    '/v1/observation-sources',
    sourceBody('screen-closing', TOKEN, { allow_materialization: false }),
  );
  assert.equal(reopened.status, 200, reopened.text);
  const refused = await trigger(closing.body.schedule_id);
  assert.equal(refused.status, 'skipped');
  assert.match(refused.error, /observations\/materialization_not_allowed/);
  assert.equal(
    (await get(`/v1/runs?session_id=${session}`)).body.length,
    before + 1,
    'only the allow-empty run',
  );
});

test('api-core §6.3: an embedded materialization is checked at creation through the observations feature', async () => {
  const create = (selection: Record<string, unknown>, extra?: Record<string, unknown>) =>
    post('/v1/schedules', scheduleBody(selection, extra));
  assertProblem(
    await create({ type: 'latest_from_source', source_id: 'no-such-source' }),
    404,
    'observations',
    'observation_source_not_found',
  );
  assertProblem(
    await create({ type: 'latest_from_source', source_id: 'closed-s' }),
    403,
    'observations',
    'materialization_not_allowed',
  );
  assertProblem(
    await create({ type: 'observation_ids', observation_ids: ['obs-unknown'] }),
    404,
    'observations',
    'observation_not_found',
  );
  assertProblem(await create({ type: 'latest_from_source' }), 400, 'schedules', 'invalid_schedule_request');
  assertProblem(
    await create({ type: 'latest_from_source', source_id: 'screen-s', max_observations: 0 }),
    400,
    'schedules',
    'invalid_schedule_request',
  );
  const noRequest = scheduleBody({ type: 'latest_from_source', source_id: 'screen-s' });
  (noRequest.observation_materialization as any).request = { content: '' };
  const bad = await post('/v1/schedules', noRequest);
  // An empty instruction is fine: the evidence block is the input.
  assert.equal(bad.status, 201, bad.text);
  const delivery = scheduleBody({ type: 'latest_from_source', source_id: 'screen-s' });
  (delivery.observation_materialization as any).request = {
    content: 'x',
    reply_targets: [{ plugin: 'webhook', address: 'https://example.invalid/hook' }],
  };
  const refused = await post('/v1/schedules', delivery);
  assert.equal(refused.status, 403, refused.text);
  assert.equal(refused.body.code, 'output_delivery_not_allowed');
  // Leaving the target out means the schedule's session.
  const implicit = scheduleBody({ type: 'latest_from_source', source_id: 'screen-s' });
  delete (implicit.observation_materialization as any).target_session_id;
  const ok = await post('/v1/schedules', implicit);
  assert.equal(ok.status, 201, ok.text);
  assert.equal(ok.body.observation_materialization.target_session_id, session);
  assertProblem(
    await create({ type: 'latest_from_source', source_id: 'screen-s' }, { request: { content: 'both' } }),
    400,
    'schedules',
    'invalid_schedule_payload',
  );
});

test("api-core §6.3: a queue_one fire held behind a live run selects when it is dispatched, at that run's end", async () => {
  const first = await uploadText('screen-queue', 'q1', 20, 'Queue frame one');
  const body = scheduleBody(
    { type: 'latest_from_source', source_id: 'screen-queue', max_observations: 5 },
    { overlap_policy: 'queue_one' },
  );
  (body.observation_materialization as any).request = { content: 'Slow digest of the screen.' };
  const created = await post('/v1/schedules', body);
  assert.equal(created.status, 201, created.text);
  const id = created.body.schedule_id;
  const e1 = await trigger(id);
  assert.equal(e1.status, 'dispatched', JSON.stringify(e1));
  const queued = await post(`/v1/schedules/${id}/trigger`);
  assert.notEqual(queued.body.schedule.queued_fire_at_ms, null, 'the second fire waits behind the first');
  // Uploaded while the first run is live and the second fire is queued: the queued fire sees it.
  const second = await uploadText('screen-queue', 'q2', 21, 'Queue frame two');
  await waitForRun(d.url, e1.run_id);
  let view: any;
  for (let i = 0; i < 200; i++) {
    view = (await get(`/v1/schedules/${id}`)).body;
    if (view.recent_executions.length === 2 && view.recent_executions[1].run_id) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  const e2 = view.recent_executions[1];
  assert.equal(e2.from_queued_fire, true, JSON.stringify(view));
  const run2 = await waitForRun(d.url, e2.run_id);
  assert.equal(run2.kind, 'scheduled_observation_materialization');
  const ids = (await inputOf(run2.run_id)).request.metadata.observation_materialization.observation_ids;
  assert.ok(ids.includes(first) && ids.includes(second), `the queued fire selected at dispatch: ${ids}`);
  const ids1 = (await inputOf(e1.run_id)).request.metadata.observation_materialization.observation_ids;
  assert.ok(!ids1.includes(second), 'the first fire did not');
});

test('api-core §6.3: an observation schedule imports its inline file once and holds it; each run references it and the attached frame', async () => {
  const frame = await upload(d.url, 'screen-s', TOKEN, uploadBody('f-raw', 30));
  assert.equal(frame.status, 201, frame.text);
  const body = scheduleBody({ type: 'latest_from_source', source_id: 'screen-s', max_observations: 1 });
  (body.observation_materialization as any).raw_asset_policy = 'auto';
  (body.observation_materialization as any).request = {
    content: 'Compare with the checklist.',
    attachments: [
      {
        type: 'inline_asset',
        file_name: 'checklist.txt',
        content_base64: Buffer.from('1. build green').toString('base64'),
      },
    ],
  };
  const created = await post('/v1/schedules', body);
  assert.equal(created.status, 201, created.text);
  const id = created.body.schedule_id;
  const [file] = created.body.request.attachments;
  assert.equal(file.type, 'asset_reference', 'stored as a reference: imported once, at creation');
  const refs = async (assetId: string) =>
    (await get(`/v1/assets/${assetId}/references`)).body.references.map((r: any) => [r.domain, r.owner_id]);
  assert.deepEqual(await refs(file.asset_id), [['schedules', id]]);

  const fired = await trigger(id);
  const run = await waitForRun(d.url, fired.run_id);
  const items = (await inputOf(run.run_id)).request.input_items;
  assert.deepEqual(
    items.filter((i: any) => i.type === 'asset_reference').map((i: any) => i.asset_id),
    [file.asset_id, frame.body.asset_id],
    'the operator file first, then the attached frame',
  );
  assert.ok(
    (await refs(file.asset_id)).some(([dom, owner]: string[]) => dom === 'runs' && owner === run.run_id),
  );
  assert.ok(
    (await refs(frame.body.asset_id)).some(
      ([dom, owner]: string[]) => dom === 'runs' && owner === run.run_id,
    ),
  );
  assert.equal((await post(`/v1/schedules/${id}/cancel`)).status, 200);
  assert.ok(!(await refs(file.asset_id)).some(([dom]: string[]) => dom === 'schedules'), 'cancel lets go');
});
