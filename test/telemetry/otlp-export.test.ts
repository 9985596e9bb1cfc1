// Traces from a real daemon process configured only by OTEL_* variables, received by a local
// OTLP/HTTP (JSON) receiver; the submitter's traceparent is continued and carried to an HTTP hook.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { runSpanId, runTraceId } from '../../src/telemetry/trace-context.ts';
import { http, startDaemon, type TestDaemon, waitForRun } from '../helpers/daemon.ts';
import {
  childSidecarConnectorsFile,
  eventually,
  freePort,
  SidecarClient,
} from '../helpers/external-sidecar.ts';
import { setHooks } from '../hooks/hook-scripts.ts';
import { type Receiver, startReceiver, until } from './otlp-receiver.ts';

const SCRIPT = {
  default: {
    turns: [
      {
        tool_calls: [
          { name: 'list_files', arguments: { path: '.' } },
          { name: 'glob_search', arguments: { pattern: '*.md' } },
        ],
      },
      { text: 'listed' },
    ],
  },
};

let receiver: Receiver;
let d: TestDaemon;

let sidecarPort: number;

before(async () => {
  receiver = await startReceiver();
  sidecarPort = await freePort();
  d = await startDaemon({
    script: SCRIPT,
    args: [
      '--connectors-config',
      // A child_process sidecar (the Python test fixture) that the daemon starts and delivers to.
      childSidecarConnectorsFile({ name: 'traced', port: sidecarPort, sharedTokenEnv: 'OTEL_TEST_SHARED' }),
    ],
    env: {
      OTEL_TEST_SHARED: 'otel-test-shared-token',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.origin,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_SERVICE_NAME: 'kheish-otel-test',
      KHEISH_TEST_HOOK_ALLOW_TARGETS: `127.0.0.1:${receiver.port}`,
    },
  });
});

after(async () => {
  await d.kill();
  await d.cleanup();
  await receiver.close();
});

const rootOf = (runId: string) =>
  receiver.spans.find((s) => s.spanId === runSpanId(runId) && s.name.startsWith('invoke_agent'));

test('traces: OTLP export from OTEL_* variables; a submitted traceparent is continued and reaches an HTTP hook', async () => {
  const status = (await http(d.url, 'GET', '/v1/status')).body;
  assert.deepEqual(status.tracing, { enabled: true, exporter: 'otlp', protocol: 'http/json' });
  const hook = {
    name: 'audit',
    executor: { type: 'http', url: `${receiver.origin}/hook`, timeout_ms: 3000 },
  };
  assert.equal((await setHooks(d.url, { pre_tool_use: [hook] })).status, 200);

  const traceId = randomBytes(16).toString('hex');
  const parent = randomBytes(8).toString('hex');
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'traced' });
  const res = await fetch(`${d.url}/v1/sessions/traced/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${parent}-01` },
    body: JSON.stringify({ content: 'list the files' }),
  });
  assert.equal(res.status, 202);
  const run = (await res.json()) as { run_id: string };
  const done = await waitForRun(d.url, run.run_id);
  assert.equal(done.status, 'completed', done.error);
  await until(() => rootOf(run.run_id) !== undefined, 'the run root span');

  const spans = receiver.spans.filter((s) => s.traceId === traceId);
  const root = rootOf(run.run_id)!;
  assert.equal(root.traceId, traceId, 'the run continues the submitter trace');
  assert.equal(root.parentSpanId, parent, "the run's root is a child of the submitter span");
  assert.equal(root.resource['service.name'], 'kheish-otel-test');
  assert.equal(root.attributes['kheish.run.id'], run.run_id);
  const names = spans.map((s) => s.name).sort();
  for (const want of ['chat scripted', 'execute_tool list_files', 'execute_tool glob_search'])
    assert.ok(names.includes(want), `${want} in ${names.join(', ')}`);
  const chat = spans.find((s) => s.name === 'chat scripted')!;
  assert.equal(chat.attributes['gen_ai.operation.name'], 'chat');
  assert.equal(chat.parentSpanId, root.spanId);
  const hookSpans = spans.filter((s) => s.name === 'hook pre_tool_use');
  assert.ok(hookSpans.length >= 1, 'the hook execution has a span');

  // The hook received a traceparent of the run's trace, naming its own hook span.
  const calls = receiver.others.filter((o) => o.path === '/hook');
  assert.ok(calls.length >= 1);
  for (const call of calls) {
    const header = String(call.headers.traceparent);
    const [, tid, sid] = header.split('-');
    assert.equal(tid, traceId, header);
    assert.ok(
      hookSpans.some((h) => h.spanId === sid),
      'the header names the hook span',
    );
  }
});

test('traces: an invalid traceparent is ignored (the submit succeeds; the run gets its own trace id)', async () => {
  await setHooks(d.url, {});
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'untraced' });
  const res = await fetch(`${d.url}/v1/sessions/untraced/input`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', traceparent: '00-not-a-trace-context-01' },
    body: JSON.stringify({ content: 'list again' }),
  });
  assert.equal(res.status, 200);
  const runs = (await http(d.url, 'GET', '/v1/runs?session_id=untraced')).body as Array<{
    run_id: string;
  }>;
  assert.equal(runs.length, 1);
  const runId = runs[0]!.run_id;
  await until(() => rootOf(runId) !== undefined, 'the second run root span');
  const root = rootOf(runId)!;
  assert.equal(root.traceId, runTraceId(runId));
  assert.equal(root.parentSpanId, '');
});

test('traces: a delivery to an external sidecar has its span in the run trace, and the sidecar gets its traceparent', async () => {
  await eventually(async () => {
    const c = ((await http(d.url, 'GET', '/v1/runtime/external-connectors')).body.children as any[]).find(
      (x) => x.connector === 'traced',
    );
    return c?.state === 'ready';
  }, 'the sidecar ready');
  const sidecar = new SidecarClient(`http://127.0.0.1:${sidecarPort}`);
  const ev = await sidecar.emit({
    event_id: 'otel-1',
    routing_key: 'otel',
    content: 'hi',
    reply_route: 'r1',
  });
  assert.equal(ev.body.status, 'accepted', JSON.stringify(ev));
  const attempt = await eventually(async () => (await sidecar.state()).attempts[0], 'a delivery attempt');
  const [, traceId, spanId] = String(attempt.traceparent_header).split('-');
  await until(
    () => receiver.spans.some((s) => s.attributes['kheish.delivery.id'] === attempt.delivery_id),
    'the delivery span',
  );
  const span = receiver.spans.find((s) => s.attributes['kheish.delivery.id'] === attempt.delivery_id)!;
  assert.equal(span.name, 'deliver external');
  assert.equal(span.traceId, traceId, 'the sidecar is told the delivery span trace');
  assert.equal(span.spanId, spanId);
  const runId = String(span.attributes['kheish.run.id']);
  assert.equal(span.parentSpanId, runSpanId(runId), "under the run's root span");
  await until(() => rootOf(runId) !== undefined, "the sidecar run's root span");
  assert.equal(rootOf(runId)!.traceId, traceId);
});

test('traces: without a protocol variable spans go out as http/protobuf', async () => {
  const proto = await startReceiver();
  const p = await startDaemon({
    script: { default: { turns: [{ text: 'ok' }] } },
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: proto.origin,
      OTEL_EXPORTER_OTLP_PROTOCOL: '',
      OTEL_BSP_SCHEDULE_DELAY: '50',
    },
  });
  try {
    assert.equal((await http(p.url, 'GET', '/v1/status')).body.tracing.protocol, 'http/protobuf');
    await http(p.url, 'POST', '/v1/sessions', { session_id: 'pb' });
    const run = (await http(p.url, 'POST', '/v1/sessions/pb/runs', { content: 'go' })).body;
    assert.equal((await waitForRun(p.url, run.run_id)).status, 'completed');
    await until(() => proto.protobufRequests > 0, 'a protobuf export');
    assert.equal(proto.spans.length, 0, 'nothing came as JSON');
  } finally {
    await p.kill();
    await p.cleanup();
    await proto.close();
  }
});
