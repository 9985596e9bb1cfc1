// GET /metrics (docs/operations.md): after a mixed workload the scraped values equal
// the API's counts, the exposition parses strictly, and --metrics-bind serves it on its own port.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { after, before, test } from 'node:test';
import { Kheish } from '../../src/sdk/index.ts';
import { BIN, http, startDaemon, type TestDaemon, tempDir } from '../helpers/daemon.ts';
import { type Family, parsePrometheusText, sampleValue, sumOf } from '../helpers/prom-text.ts';

const usage = { input_tokens: 100, output_tokens: 20 };
const script = {
  rules: [
    {
      match: '^read',
      turns: [
        { tool_calls: [{ name: 'read_file', arguments: { path: 'missing.txt' } }], usage },
        { text: 'no file', usage },
      ],
    },
    {
      match: '^write',
      turns: [{ tool_calls: [{ name: 'write_file', arguments: { path: 'a.txt', content: 'x' } }], usage }],
    },
    { match: '^break', turns: [{ error: { status: 400 } }] },
  ],
  default: { turns: [{ text: 'hello back', usage }] },
};

let d: TestDaemon;
const ADMIN = 'metrics-admin-token';
const READER = 'metrics-reader-token';

before(async () => {
  d = await startDaemon({
    script,
    args: [
      '--workspace-root',
      tempDir('kheish-metrics-ws-'),
      '--http-admin-token',
      ADMIN,
      '--http-readonly-token',
      READER,
    ],
  });
});
after(async () => {
  await d?.stop();
  await d?.cleanup();
});

const auth = { authorization: `Bearer ${ADMIN}` };

async function submit(text: string): Promise<string> {
  const s = await http(d.url, 'POST', '/v1/sessions', {}, auth);
  const r = await http(d.url, 'POST', `/v1/sessions/${s.body.session_id}/runs`, { content: text }, auth);
  assert.equal(r.status, 202, r.text);
  return r.body.run_id;
}

test('metrics: /metrics values equal the API counts after a mixed workload', async () => {
  // waitForRun does not send a token: poll through the SDK instead.
  const k = new Kheish({ baseUrl: d.url, token: ADMIN });
  const wait = async (id: string, status: string) => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const run = (await k.runs.get(id)) as { status: string };
      if (run.status === status) return run;
      if (Date.now() > deadline) throw new Error(`run ${id} is ${run.status}, not ${status}`);
      await new Promise((r) => setTimeout(r, 30));
    }
  };
  const ok = await submit('hello');
  const read = await submit('read something');
  const write = await submit('write a file');
  const broken = await submit('break it');
  await wait(ok, 'completed');
  await wait(read, 'completed');
  await wait(write, 'waiting_for_approval');
  await wait(broken, 'failed');

  const text = await k.runtime.metrics();
  const m = parsePrometheusText(text);
  const status = (await k.runtime.status()) as any;

  for (const s of ['completed', 'failed', 'waiting_for_approval', 'queued', 'running'])
    assert.equal(sampleValue(m, 'kheish_runs', { status: s }), status.runs[s], `kheish_runs{status=${s}}`);
  assert.equal(sampleValue(m, 'kheish_runs', { status: 'completed' }), 2);
  assert.equal(
    sampleValue(m, 'kheish_runs_live', { status: 'waiting_for_approval', kind: 'user' }) ??
      sumOf(m, 'kheish_runs_live', { status: 'waiting_for_approval' }),
    1,
  );
  assert.equal(sampleValue(m, 'kheish_approvals_pending'), status.runs.pending_approval_count);
  assert.equal(sampleValue(m, 'kheish_approvals_pending'), 1);
  assert.equal(sampleValue(m, 'kheish_sessions'), status.sessions.total);
  assert.equal(sampleValue(m, 'kheish_ready'), 1);

  // Event-fed counters agree with the runs' own records.
  assert.equal(sumOf(m, 'kheish_runs_finished_total', { status: 'completed' }), 2);
  assert.equal(sumOf(m, 'kheish_runs_finished_total', { status: 'failed' }), 1);
  const readEvents = (await http(d.url, 'GET', `/v1/runs/${read}/events`, undefined, auth)).body as any[];
  const finished = readEvents.filter((e) => e.event?.trace?.kind === 'tool_call_finished');
  assert.equal(finished.length, 1);
  assert.equal(
    sampleValue(m, 'kheish_tool_calls_total', {
      tool: 'read_file',
      outcome: finished[0].event.trace.outcome,
    }),
    1,
  );
  assert.equal(sumOf(m, 'kheish_tool_calls_total'), 1, 'the write waits for approval: not a call yet');
  assert.equal(sumOf(m, 'kheish_model_tokens_total', { type: 'input' }), status.runs.usage.input_tokens);
  assert.equal(sumOf(m, 'kheish_model_tokens_total', { type: 'output' }), status.runs.usage.output_tokens);
  // Usage counts every call made, the failed one included.
  assert.equal(sumOf(m, 'kheish_model_calls_total'), status.runs.usage.model_calls);
  assert.equal(sumOf(m, 'kheish_model_calls_total', { outcome: 'error' }), 1);
  assert.equal(
    sumOf(m, 'kheish_model_call_duration_seconds_count'),
    sumOf(m, 'kheish_model_calls_total', { outcome: 'ok' }),
  );
  assert.equal(sumOf(m, 'kheish_run_queue_wait_seconds_count'), 4);
  assert.ok(sumOf(m, 'kheish_step_duration_seconds_count') >= 3);
  assert.ok(sumOf(m, 'kheish_store_commit_duration_seconds_count') > 0);
  assert.equal(sampleValue(m, 'kheish_store_write_errors_total'), status.storage.write_error_count);
  assert.ok((sampleValue(m, 'kheish_event_subscribers') ?? 0) >= 1);
  const leases = m.get('kheish_replica_leases') as Family;
  assert.ok(leases.samples.length >= 1);

  // Conventions: every family is kheish_-prefixed, counters end in _total, typed and described.
  for (const f of m.values()) {
    assert.match(f.name, /^kheish_/);
    assert.ok(f.help.length > 0, f.name);
    if (f.type === 'counter') assert.match(f.name, /_total$/);
    else assert.doesNotMatch(f.name, /_total$/);
  }
});

test('metrics: /metrics takes the tokens of /v1/status (read-only allowed, none refused)', async () => {
  assert.equal((await http(d.url, 'GET', '/metrics')).status, 401);
  const r = await http(d.url, 'GET', '/metrics', undefined, { authorization: `Bearer ${READER}` });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
});

test('metrics: --metrics-bind serves /metrics without a token; a taken port stops the start', async () => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const port = (taken.address() as { port: number }).port;
  try {
    const r = spawnSync(
      BIN,
      ['serve', '--state-root', tempDir(), '--bind', '127.0.0.1:0', '--metrics-bind', `127.0.0.1:${port}`],
      { encoding: 'utf8', timeout: 30_000 },
    );
    assert.equal(r.status, 2, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`--metrics-bind: cannot listen on 127\\.0\\.0\\.1:${port}: the address is already in use`),
    );
    assert.doesNotMatch(r.stderr, /kheish-daemon ready/);
  } finally {
    taken.close();
  }
  const free = createServer();
  await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
  const freePort = (free.address() as { port: number }).port;
  await new Promise<void>((resolve) => free.close(() => resolve()));
  const m = await startDaemon({ args: ['--metrics-bind', `127.0.0.1:${freePort}`] });
  try {
    const res = await fetch(`http://127.0.0.1:${freePort}/metrics`);
    assert.equal(res.status, 200);
    const families = parsePrometheusText(await res.text());
    assert.equal(sampleValue(families, 'kheish_ready'), 1);
    assert.equal((await fetch(`http://127.0.0.1:${freePort}/v1/status`)).status, 404);
  } finally {
    await m.stop();
    await m.cleanup();
  }
});
