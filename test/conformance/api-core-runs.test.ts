// api-core §15 "Runs" (items 40-46): lookups, event logs, the state machine, cancel, listing.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon, waitForRun } from '../helpers/daemon.ts';
import { assertLegalEventSequence, assertProblem, createSession, SCRIPT, submitRun } from './support.ts';

let d: TestDaemon;
let base: string;
/** Runs of every terminal kind, made once and inspected by several items. */
const runs: Record<'completed' | 'failed' | 'cancelledQueued' | 'cancelledRunning' | 'interrupted', string> =
  {} as never;

async function events(runId: string): Promise<any[]> {
  const res = await http(base, 'GET', `/v1/runs/${runId}/events`);
  assert.equal(res.status, 200, res.text);
  return res.body;
}

before(async () => {
  d = await startDaemon({ script: SCRIPT });
  base = d.url;
  const s1 = await createSession(base, 'runs-a');
  runs.completed = (await submitRun(base, s1, { content: 'hello' })).run_id;
  await waitForRun(base, runs.completed);
  runs.failed = (await submitRun(base, s1, { content: 'please fail' })).run_id;
  await waitForRun(base, runs.failed);

  const s2 = await createSession(base, 'runs-b');
  runs.cancelledRunning = (await submitRun(base, s2, { content: 'slow to cancel' })).run_id;
  runs.cancelledQueued = (await submitRun(base, s2, { content: 'queued to cancel' })).run_id;
  await waitForRun(base, runs.cancelledRunning, (r) => r.status === 'running');
  assert.equal((await http(base, 'POST', `/v1/runs/${runs.cancelledQueued}/cancel`)).status, 200);
  assert.equal((await http(base, 'POST', `/v1/runs/${runs.cancelledRunning}/cancel`)).status, 200);

  const s3 = await createSession(base, 'runs-c');
  runs.interrupted = (await submitRun(base, s3, { content: 'slow to interrupt' })).run_id;
  await waitForRun(base, runs.interrupted, (r) => r.status === 'running');
  assert.equal((await http(base, 'POST', `/v1/sessions/${s3}/interrupt`)).status, 200);
  for (const id of Object.values(runs)) await waitForRun(base, id);
});

after(async () => {
  await d?.stop();
  await d?.cleanup();
});

test('api-core #40: unknown run ids are 404 Problem(runs/run_not_found)', async () => {
  for (const [method, path] of [
    ['GET', '/v1/runs/run-does-not-exist'],
    ['GET', '/v1/runs/run-does-not-exist/events'],
    ['GET', '/v1/runs/run-does-not-exist/stream'],
    ['POST', '/v1/runs/run-does-not-exist/cancel'],
  ] as const) {
    assertProblem(await http(base, method, path), 404, 'runs', 'run_not_found', `${method} ${path}`);
  }
});

test('api-core #41: run events are RunEventEntry objects starting accepted, queued; timestamps never decrease', async () => {
  for (const [name, id] of Object.entries(runs)) {
    const evs = await events(id);
    assert.ok(Array.isArray(evs) && evs.length >= 3, `${name}: ${JSON.stringify(evs)}`);
    for (const e of evs) {
      assert.equal(typeof e.timestamp_ms, 'number', name);
      assert.equal(e.run_id, id, name);
      assert.equal(typeof e.session_id, 'string', name);
      assert.equal(typeof e.agent_id, 'string', name);
      assert.equal(typeof e.event?.type, 'string', name);
    }
    assert.equal(evs[0].event.type, 'accepted', name);
    assert.equal(evs[1].event.type, 'queued', name);
    assert.ok(Number.isInteger(evs[1].event.position), `${name}: queued carries an integer position`);
    for (let i = 1; i < evs.length; i++)
      assert.ok(evs[i].timestamp_ms >= evs[i - 1].timestamp_ms, `${name} #${i}`);
  }
  // The queued run waited behind the running one: its position is 1, the first one's 0.
  assert.equal((await events(runs.cancelledRunning))[1].event.position, 0);
  assert.equal((await events(runs.cancelledQueued))[1].event.position, 1);
});

test('api-core #42: statuses implied by run events follow §3.8 and nothing follows a terminal event', async () => {
  const expected: Record<string, string[]> = {
    completed: ['queued', 'running', 'completed'],
    failed: ['queued', 'running', 'failed'],
    cancelledQueued: ['queued', 'cancelled'],
    cancelledRunning: ['queued', 'running', 'cancelled'],
    interrupted: ['queued', 'running', 'interrupted'],
  };
  for (const [name, id] of Object.entries(runs)) {
    const statuses = assertLegalEventSequence(await events(id), name);
    assert.deepEqual(statuses, expected[name], name);
    assert.equal(
      (await http(base, 'GET', `/v1/runs/${id}`)).body.status,
      statuses.at(-1),
      `${name}: RunView agrees`,
    );
  }
});

test('api-core #43: a completed log ends with completed; a failed one with failed + error, and RunView.error', async () => {
  const done = await events(runs.completed);
  assert.equal(done.at(-1).event.type, 'completed');
  const doneView = (await http(base, 'GET', `/v1/runs/${runs.completed}`)).body;
  assert.equal(doneView.status, 'completed');
  assert.equal(typeof doneView.finished_at_ms, 'number');
  assert.equal(doneView.error, undefined);
  assert.ok(
    done.some((e: any) => e.event.type === 'output' && e.event.output?.content === 'ok'),
    'the reply is an output event',
  );

  const failed = await events(runs.failed);
  assert.equal(failed.at(-1).event.type, 'failed');
  assert.equal(typeof failed.at(-1).event.error, 'string');
  assert.ok(failed.at(-1).event.error.length > 0);
  const view = (await http(base, 'GET', `/v1/runs/${runs.failed}`)).body;
  assert.equal(view.status, 'failed');
  assert.equal(typeof view.error, 'string');
  assert.ok(view.error.length > 0);
});

test('api-core #44: cancelling a queued run is 200 cancelled with finished_at_ms; repeating it is idempotent', async () => {
  const sid = await createSession(base, 'cancel-44');
  const holder = await submitRun(base, sid, { content: 'slow holder' });
  const queued = await submitRun(base, sid, { content: 'to be cancelled' });
  assert.equal(queued.status, 'queued');
  const first = await http(base, 'POST', `/v1/runs/${queued.run_id}/cancel`);
  assert.equal(first.status, 200, first.text);
  assert.equal(first.body.status, 'cancelled');
  assert.equal(typeof first.body.finished_at_ms, 'number');
  assert.equal(first.body.queued_position, undefined);
  const second = await http(base, 'POST', `/v1/runs/${queued.run_id}/cancel`);
  assert.equal(second.status, 200, second.text);
  assert.equal(second.body.status, 'cancelled');
  assert.equal(second.body.finished_at_ms, first.body.finished_at_ms);
  const evs = await events(queued.run_id);
  assert.equal(evs.filter((e: any) => e.event.type === 'cancelled').length, 1);
  assert.equal(
    evs.some((e: any) => e.event.type === 'started'),
    false,
    'a cancelled queued run never starts',
  );
  // The holder is unaffected and finishes normally.
  assert.equal((await waitForRun(base, holder.run_id)).status, 'completed');
  assert.equal((await http(base, 'GET', `/v1/runs/${queued.run_id}`)).body.status, 'cancelled');
});

test('api-core #44 (§14.7 inferred): cancelling a completed or failed run is 409 runs/run_state_conflict', async () => {
  for (const id of [runs.completed, runs.failed, runs.interrupted]) {
    const before = await events(id);
    assertProblem(await http(base, 'POST', `/v1/runs/${id}/cancel`), 409, 'runs', 'run_state_conflict', id);
    assert.equal((await events(id)).length, before.length, 'no event appended');
  }
});

test('api-core #45: ?session_id filters runs; ?limit=2 without page gives the last 2 in submission order', async () => {
  const filtered = await http(base, 'GET', '/v1/runs?session_id=runs-a');
  assert.equal(filtered.status, 200);
  assert.deepEqual(
    filtered.body.map((r: any) => r.run_id),
    [runs.completed, runs.failed],
  );
  for (const r of filtered.body) assert.equal(r.session_id, 'runs-a');
  assert.deepEqual((await http(base, 'GET', '/v1/runs?session_id=nobody')).body, []);

  const all = (await http(base, 'GET', '/v1/runs')).body as any[];
  assert.ok(all.length >= 7);
  const lastTwo = await http(base, 'GET', '/v1/runs?limit=2');
  assert.ok(Array.isArray(lastTwo.body));
  assert.deepEqual(
    lastTwo.body.map((r: any) => r.run_id),
    all.slice(-2).map((r) => r.run_id),
  );
  assert.ok(lastTwo.body[0].submitted_at_ms <= lastTwo.body[1].submitted_at_ms);
  const lastOfA = await http(base, 'GET', '/v1/runs?session_id=runs-a&limit=1');
  assert.deepEqual(
    lastOfA.body.map((r: any) => r.run_id),
    [runs.failed],
  );
});

test('api-core #46: page=true&order=desc is newest first with its order label; order=sideways is 400', async () => {
  const asc = (await http(base, 'GET', '/v1/runs?page=true')).body;
  const desc = await http(base, 'GET', '/v1/runs?page=true&order=desc');
  assert.equal(desc.status, 200, desc.text);
  assert.equal(desc.body.pagination.order, 'submitted_at_ms_desc,run_id_desc');
  assert.deepEqual(
    desc.body.items.map((r: any) => r.run_id),
    asc.items.map((r: any) => r.run_id).reverse(),
  );
  for (let i = 1; i < desc.body.items.length; i++)
    assert.ok(desc.body.items[i].submitted_at_ms <= desc.body.items[i - 1].submitted_at_ms);
  assert.equal(
    (await http(base, 'GET', '/v1/runs?page=true&order=asc')).body.pagination.order,
    'submitted_at_ms_asc,run_id_asc',
  );
  for (const path of ['/v1/runs?page=true&order=sideways', '/v1/runs?order=sideways']) {
    assertProblem(await http(base, 'GET', path), 400, 'pagination', 'invalid_order', path);
  }
});
