// Two replicas on one PostgreSQL database behave as one system (issue 11): a session runs one run
// at a time whichever replica accepted each submit, queued runs start in submit order; a cancel,
// a question's answer or a runtime setting given to one replica reaches a run executing on the
// other; /v1/status on either shows both replicas and who owns which live run.
// Always on PostgreSQL (its own schema), whatever KHEISH_TEST_STORE says.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { api, createSession, getRun, sleep, submitRun, waitFor, waitTerminal } from '../crash/crash-kit.ts';
import type { TestDaemon } from '../helpers/daemon.ts';
import { type ReplicaPair, startReplicaPair } from '../helpers/replica-pair.ts';

const question = {
  name: 'ask_user_question',
  arguments: {
    questions: [{ id: 'pick', header: 'Pick', question: 'Which?', options: [{ id: 'x', label: 'X' }] }],
  },
};
const script = {
  rules: [
    { match: '^slow', turns: [{ delay_ms: 150, text: 'slow done' }] },
    { match: '^hang', turns: [{ hang: true }] },
    { match: '^ask', turns: [{ tool_calls: [question] }, { text: 'answered' }] },
  ],
  default: { turns: [{ text: 'ok' }] },
};

let pair: ReplicaPair;
let a: TestDaemon;
let b: TestDaemon;

before(async () => {
  pair = await startReplicaPair({ script, args: ['--lease-ttl-ms', '2000'] });
  ({ a, b } = pair);
});

after(() => pair?.stop());

test('replicas: one active run per session and FIFO starts, whichever replica accepted each submit', async () => {
  const sid = await createSession(a.url);
  const ids: string[] = [];
  for (let k = 0; k < 6; k++) ids.push((await submitRun(k % 2 ? b.url : a.url, sid, `slow ${k}`)).run_id);
  let maxActive = 0;
  const watcher = (async () => {
    for (;;) {
      const runs = await Promise.all(ids.map((id) => getRun(a.url, id)));
      maxActive = Math.max(maxActive, runs.filter((r) => r.status === 'running').length);
      if (runs.every((r) => r.status === 'completed')) return;
      await sleep(20);
    }
  })();
  const done = await waitTerminal(b.url, ids, 30_000);
  await watcher;
  assert.ok(
    done.every((r) => r.status === 'completed'),
    JSON.stringify(done.map((r) => r.status)),
  );
  assert.equal(maxActive, 1, 'never two active runs in the session');
  const starts = done.map((r) => r.started_at_ms as number);
  assert.deepEqual(
    [...starts].sort((x, y) => x - y),
    starts,
    'runs started in submit order',
  );
});

test('replicas: a cancel posted to one replica stops the run executing on the other', async () => {
  const sid = await createSession(a.url);
  const run = await submitRun(a.url, sid, 'hang here');
  await waitFor(
    'the run to be running on A',
    async () => (await getRun(a.url, run.run_id)).status === 'running',
  );
  const res = await api(b.url, 'POST', `/v1/runs/${run.run_id}/cancel`);
  assert.ok(res.status < 300, res.text);
  assert.equal((await getRun(a.url, run.run_id)).status, 'cancelled');
  await waitFor('A to stop its executor', async () => {
    const st = (await api(a.url, 'GET', '/v1/status')).body;
    return st.runs.active_executors === 0;
  });
});

test('replicas: a question asked on one replica is answered on the other, and the run completes', async () => {
  const sid = await createSession(a.url);
  const run = await submitRun(a.url, sid, 'ask me');
  const parked = await waitFor('the question', async () => {
    const r = await getRun(b.url, run.run_id);
    return r.status === 'waiting_for_user_question' ? r : undefined;
  });
  const res = await api(b.url, 'POST', `/v1/runs/${run.run_id}/questions`, {
    resolution: {
      request_id: parked.pending_question_ids[0],
      answers: [{ question_id: 'pick', selected_option_ids: ['x'] }],
    },
  });
  assert.equal(res.status, 202, res.text);
  const [final] = await waitTerminal(a.url, [run.run_id], 15_000);
  assert.equal(final.status, 'completed');
  assert.deepEqual(
    final.outputs.map((o: { content: string }) => o.content),
    ['answered'],
  );
});

test('replicas: a runtime setting changed or rolled back on one replica applies on the other', async () => {
  // A revision to come back to (revision 0, the defaults, is not a rollback target).
  assert.equal((await api(b.url, 'POST', '/v1/runtime/permission-mode', { mode: 'plan' })).status, 200);
  const before = (await api(b.url, 'GET', '/v1/runtime')).body;
  const res = await api(a.url, 'POST', '/v1/runtime/permission-mode', { mode: 'acceptEdits' });
  assert.equal(res.status, 200, res.text);
  await waitFor('B to apply the new mode', async () => {
    const view = (await api(b.url, 'GET', '/v1/runtime')).body;
    return JSON.stringify(view).includes('acceptEdits') && JSON.stringify(view) !== JSON.stringify(before);
  });
  // The revision check holds across replicas: B knows A's revision.
  const stale = await api(b.url, 'POST', '/v1/runtime/permission-mode', {
    mode: 'default',
    expected_revision: before.config.revision,
  });
  assert.equal(stale.status, 409, stale.text);
  // A rollback through B restores the snapshot before A's change, on A too.
  const rolled = await api(b.url, 'POST', '/v1/runtime/rollback', {});
  assert.equal(rolled.status, 200, rolled.text);
  assert.equal(rolled.body.permission_mode, before.permission_mode);
  await waitFor('A to apply the rollback', async () => {
    const view = (await api(a.url, 'GET', '/v1/runtime')).body;
    return (
      view.config.revision === rolled.body.config.revision && view.permission_mode === before.permission_mode
    );
  });
});

test('replicas: /v1/status on either replica lists both and the owner of a live run', async () => {
  const sid = await createSession(b.url);
  const run = await submitRun(b.url, sid, 'hang on B');
  await waitFor('the run to be running', async () => (await getRun(b.url, run.run_id)).status === 'running');
  const view = (await api(a.url, 'GET', '/v1/status')).body.replicas;
  assert.equal(view.replicas.filter((r: { alive: boolean }) => r.alive).length, 2, JSON.stringify(view));
  const owner = view.replicas.find((r: { live_runs: string[] }) => r.live_runs.includes(run.run_id));
  assert.ok(owner && !owner.self, `the run is B's: ${JSON.stringify(view)}`);
  assert.equal(
    view.leases.find((l: { run_id: string }) => l.run_id === run.run_id)?.replica_id,
    owner.replica_id,
  );
  await api(a.url, 'POST', `/v1/runs/${run.run_id}/cancel`);
});
