// A run's trace outlives the process: spans exported before a SIGKILL and after the restart share
// the run's trace id and root span, and the root is exported once, by the process that ends the run.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSpanId, runTraceId } from '../../src/telemetry/trace-context.ts';
import { http, startDaemon, waitForRun } from '../helpers/daemon.ts';
import { startReceiver, until } from '../telemetry/otlp-receiver.ts';

const SCRIPT = {
  default: {
    turns: [{ tool_calls: [{ name: 'list_files', arguments: {} }] }, { delay_ms: 4000, text: 'slow' }],
  },
};

test('traces: one trace per run across a SIGKILL and restart', async () => {
  const receiver = await startReceiver();
  const env = {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.origin,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '50',
  };
  const first = await startDaemon({ script: SCRIPT, env });
  let d = first;
  try {
    await http(d.url, 'POST', '/v1/sessions', { session_id: 'r' });
    const run = (await http(d.url, 'POST', '/v1/sessions/r/runs', { content: 'go' })).body;
    const traceId = runTraceId(run.run_id);
    await until(
      () => receiver.spans.some((s) => s.name === 'execute_tool list_files' && s.traceId === traceId),
      'the tool span of the first process',
    );
    await d.kill();
    d = await first.restart();
    assert.equal((await waitForRun(d.url, run.run_id)).status, 'completed');
    await until(() => receiver.spans.some((s) => s.spanId === runSpanId(run.run_id)), 'the root span');
    const roots = receiver.spans.filter((s) => s.name.startsWith('invoke_agent'));
    assert.equal(roots.length, 1);
    assert.equal(roots[0]!.traceId, traceId);
    const chats = receiver.spans.filter((s) => s.name === 'chat scripted');
    assert.ok(chats.length >= 2, 'the call before the kill and the one after the restart');
    for (const s of [...chats, ...receiver.spans.filter((x) => x.name.startsWith('execute_tool'))]) {
      assert.equal(s.traceId, traceId);
      assert.equal(s.parentSpanId, runSpanId(run.run_id));
    }
  } finally {
    await d.kill();
    await d.cleanup();
    await receiver.close();
  }
});
