// Tracing is off by default: with no OTEL_* variables (or with OTEL_SDK_DISABLED=true beside an
// endpoint) a real daemon loads none of the OpenTelemetry SDK and sends nothing. Which modules the
// daemon process loads is recorded by a module hook given through NODE_OPTIONS.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { http, startDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';
import { startReceiver } from './otlp-receiver.ts';

const SCRIPT = {
  default: { turns: [{ tool_calls: [{ name: 'list_files', arguments: {} }] }, { text: 'ok' }] },
};

/** NODE_OPTIONS that make the daemon append every module URL it loads to the returned file. */
function moduleRecorder(): { env: Record<string, string>; loaded: () => string[] } {
  const dir = tempDir('kheish-otel-mods-');
  const log = join(dir, 'modules.log');
  const hook = join(dir, 'record.mjs');
  writeFileSync(log, '');
  writeFileSync(
    hook,
    `import { registerHooks } from 'node:module';
import { appendFileSync } from 'node:fs';
registerHooks({
  load(url, context, next) {
    appendFileSync(${JSON.stringify(log)}, url + '\\n');
    return next(url, context);
  },
});
`,
  );
  return {
    env: { NODE_OPTIONS: `--import ${hook}` },
    loaded: () => readFileSync(log, 'utf8').split('\n').filter(Boolean),
  };
}

/** The test runner's own OTEL_* variables (if any) must not reach the daemons. */
const noOtel = Object.fromEntries(
  Object.keys(process.env)
    .filter((k) => k.startsWith('OTEL_'))
    .map((k) => [k, '']),
);

const SDK_PARTS = [
  '@opentelemetry/sdk-trace',
  '@opentelemetry/exporter-trace-otlp',
  '@opentelemetry/context-async-hooks',
  '@opentelemetry/resources',
  'src/telemetry/sdk.ts',
];

test('traces: off by default — no OTEL_* variables, no SDK module loaded, status says why', async () => {
  const rec = moduleRecorder();
  const d = await startDaemon({ script: SCRIPT, env: { ...noOtel, ...rec.env } });
  try {
    await http(d.url, 'POST', '/v1/sessions', { session_id: 'off' });
    const run = (await http(d.url, 'POST', '/v1/sessions/off/runs', { content: 'go' })).body;
    assert.equal((await waitForRun(d.url, run.run_id)).status, 'completed');
    const status = (await http(d.url, 'GET', '/v1/status')).body;
    assert.deepEqual(status.tracing, {
      enabled: false,
      reason: 'no OTEL_TRACES_EXPORTER and no OTLP endpoint',
    });
    const loaded = rec.loaded();
    // The recorder works: the daemon's own modules and its dependencies are in the list.
    assert.ok(loaded.some((u) => u.includes('/node_modules/fastify/')));
    assert.ok(loaded.some((u) => u.endsWith('/src/telemetry/tracing.ts')));
    for (const part of SDK_PARTS)
      assert.deepEqual(
        loaded.filter((u) => u.includes(part)),
        [],
        `${part} is not loaded while tracing is off`,
      );
  } finally {
    await d.kill();
    await d.cleanup();
  }
});

test('traces: OTEL_SDK_DISABLED=true wins over an OTLP endpoint — nothing is sent', async () => {
  const receiver = await startReceiver();
  const rec = moduleRecorder();
  const d = await startDaemon({
    script: SCRIPT,
    env: {
      ...noOtel,
      ...rec.env,
      OTEL_SDK_DISABLED: 'true',
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.origin,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '50',
    },
  });
  try {
    await http(d.url, 'POST', '/v1/sessions', { session_id: 'disabled' });
    const res = await fetch(`${d.url}/v1/sessions/disabled/runs`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      },
      body: JSON.stringify({ content: 'go' }),
    });
    const run = (await res.json()) as { run_id: string };
    assert.equal((await waitForRun(d.url, run.run_id)).status, 'completed');
    assert.equal((await http(d.url, 'GET', '/v1/status')).body.tracing.reason, 'OTEL_SDK_DISABLED=true');
    // A clean stop flushes whatever a tracer would have batched: there is nothing.
    assert.equal(await d.stop(), 0);
    assert.equal(receiver.exportRequests, 0);
    for (const part of SDK_PARTS)
      assert.deepEqual(
        rec.loaded().filter((u) => u.includes(part)),
        [],
      );
  } finally {
    if (d.proc.exitCode === null) await d.kill();
    await d.cleanup();
    await receiver.close();
  }
});

test('traces: the recorder sees the SDK when tracing is on (the control of the two tests above)', async () => {
  const rec = moduleRecorder();
  const d = await startDaemon({ env: { ...noOtel, ...rec.env, OTEL_TRACES_EXPORTER: 'console' } });
  try {
    assert.deepEqual((await http(d.url, 'GET', '/v1/status')).body.tracing, {
      enabled: true,
      exporter: 'console',
      protocol: 'http/protobuf',
    });
    const loaded = rec.loaded();
    for (const part of SDK_PARTS.filter((p) => !p.includes('exporter-trace-otlp')))
      assert.ok(
        loaded.some((u) => u.includes(part)),
        `${part} is loaded`,
      );
  } finally {
    await d.kill();
    await d.cleanup();
  }
});
