// Daemon lifecycle as an operator sees it: drain on SIGTERM, the state-root lock, provider
// faults and retries, cancellation of a hung model call, interrupt and end.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { BIN, http, startDaemon, type TestDaemon, waitForRun } from '../helpers/daemon.ts';

const script = {
  rules: [
    {
      match: 'flaky',
      turns: [
        { error: { status: 429, retry_after_ms: 10 } },
        { error: { status: 503 } },
        { text: 'recovered' },
      ],
    },
    { match: 'broken', turns: [{ error: { status: 400, message: 'bad request from provider' } }] },
    { match: 'hang', turns: [{ hang: true }] },
    { match: 'slow', turns: [{ delay_ms: 1500, text: 'slept' }] },
    { match: 'loop', turns: Array.from({ length: 10 }, () => ({ tool_calls: [{ name: 'noop' }] })) },
  ],
  default: { turns: [{ text: 'ok' }] },
};

let d: TestDaemon;
before(async () => {
  d = await startDaemon({ script, env: { KHEISH_AGENT_MAX_TURNS: '4' } });
  await http(d.url, 'POST', '/v1/sessions', { session_id: 's' });
});
after(async () => {
  await d.kill();
  d.cleanup();
});

const submit = async (session: string, content: string) => {
  await http(d.url, 'POST', '/v1/sessions', { session_id: session });
  const r = await http(d.url, 'POST', `/v1/sessions/${session}/runs`, { content });
  assert.equal(r.status, 202, r.text);
  return r.body.run_id as string;
};

test('a second daemon on the same state root refuses to start with a clear message', () => {
  const r = spawnSync(BIN, ['serve', '--state-root', d.stateRoot, '--bind', '127.0.0.1:0'], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /already in use by another kheish-daemon process/);
});

test('429 and 503 from the provider are retried, each retry plays the next scripted turn', async () => {
  const run = await waitForRun(d.url, await submit('retry', 'flaky'));
  assert.equal(run.status, 'completed');
  assert.equal(run.outputs[0].content, 'recovered');
});

test('a non-retryable provider error fails the run with the error', async () => {
  const run = await waitForRun(d.url, await submit('broken', 'broken'));
  assert.equal(run.status, 'failed');
  assert.match(run.error, /bad request from provider/);
});

test('the turn budget ends a looping run as failed with budget_exhausted', async () => {
  const run = await waitForRun(d.url, await submit('loop', 'loop'));
  assert.equal(run.status, 'failed');
  assert.match(run.error, /budget_exhausted: run turns \(used 4 of 4/);
  assert.equal(run.error_code, 'budget_exhausted');
});

test('cancel aborts a hung model call and the next queued run starts', async () => {
  const hung = await submit('cancel', 'hang');
  const next = await submit('cancel', 'after');
  await waitForRun(d.url, hung, (r) => r.status === 'running');
  const c = await http(d.url, 'POST', `/v1/runs/${hung}/cancel`);
  assert.equal(c.status, 200);
  assert.equal(c.body.status, 'cancelled');
  assert.equal((await waitForRun(d.url, next)).status, 'completed');
  const again = await http(d.url, 'POST', `/v1/runs/${next}/cancel`);
  assert.equal(again.status, 409);
  assert.equal(again.body.code, 'run_state_conflict');
});

test('interrupt stops the active run; queued runs continue; idle interrupt says false', async () => {
  const active = await submit('intr', 'hang');
  const queued = await submit('intr', 'next');
  await waitForRun(d.url, active, (r) => r.status === 'running');
  const r = await http(d.url, 'POST', '/v1/sessions/intr/interrupt');
  assert.equal(r.status, 200);
  assert.equal(r.body.interrupted, true);
  assert.ok(r.body.snapshot);
  assert.equal((await waitForRun(d.url, active)).status, 'interrupted');
  assert.equal((await waitForRun(d.url, queued)).status, 'completed');
  const idle = await http(d.url, 'POST', '/v1/sessions/intr/interrupt');
  assert.equal(idle.body.interrupted, false);
});

test('end interrupts the active run, cancels queued ones, refuses new work until reopened', async () => {
  const active = await submit('ending', 'hang');
  const queued = await submit('ending', 'later');
  await waitForRun(d.url, active, (r) => r.status === 'running');
  const e = await http(d.url, 'POST', '/v1/sessions/ending/end', { reason: 'done' });
  assert.equal(e.status, 200);
  assert.equal(e.body.snapshot.status, 'completed');
  assert.equal((await http(d.url, 'GET', `/v1/runs/${active}`)).body.status, 'interrupted');
  assert.equal((await http(d.url, 'GET', `/v1/runs/${queued}`)).body.status, 'cancelled');
  const refused = await http(d.url, 'POST', '/v1/sessions/ending/runs', { content: 'x' });
  assert.equal(refused.status, 409);
  assert.equal(refused.body.code, 'session_ended');
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'ending' });
  assert.equal((await http(d.url, 'POST', '/v1/sessions/ending/runs', { content: 'x' })).status, 202);
});

test('SIGTERM drains: exit 0, the in-flight run resumes and completes after restart', async () => {
  const own = await startDaemon({ script });
  try {
    await http(own.url, 'POST', '/v1/sessions', { session_id: 'drain' });
    const run = (await http(own.url, 'POST', '/v1/sessions/drain/runs', { content: 'slow' })).body.run_id;
    await waitForRun(own.url, run, (r) => r.status === 'running');
    own.proc.kill('SIGTERM');
    const code = await new Promise((r) => own.proc.on('exit', r));
    assert.equal(code, 0);
    const next = await own.restart();
    try {
      const done = await waitForRun(next.url, run);
      assert.equal(done.status, 'completed');
      assert.deepEqual(
        done.outputs.map((o: { content: string }) => o.content),
        ['slept'],
      );
    } finally {
      await next.kill();
    }
  } finally {
    own.cleanup();
  }
});
