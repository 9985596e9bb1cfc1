// When the OTEL_* variables turn tracing on, and which traceparent values are accepted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tracingFromEnv } from '../../src/telemetry/env.ts';
import {
  formatTraceparent,
  parseTraceparent,
  runSpanId,
  runTraceId,
} from '../../src/telemetry/trace-context.ts';

const on = (env: Record<string, string>) => tracingFromEnv(env).enabled;

test('traces: tracing is on only when an exporter is asked for, and OTEL_SDK_DISABLED wins', () => {
  assert.equal(on({}), false);
  assert.equal(on({ OTEL_SERVICE_NAME: 'x' }), false);
  assert.equal(on({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }), true);
  assert.equal(on({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' }), true);
  assert.equal(on({ OTEL_TRACES_EXPORTER: 'otlp' }), true);
  assert.equal(on({ OTEL_TRACES_EXPORTER: 'console' }), true);
  assert.equal(on({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://h:4318' }), false);
  assert.equal(on({ OTEL_SDK_DISABLED: 'TRUE', OTEL_TRACES_EXPORTER: 'otlp' }), false);
  assert.equal(on({ OTEL_SDK_DISABLED: 'false', OTEL_TRACES_EXPORTER: 'otlp' }), true);
  assert.equal(on({ OTEL_EXPORTER_OTLP_ENDPOINT: '  ' }), false);
  const zipkin = tracingFromEnv({ OTEL_TRACES_EXPORTER: 'zipkin' });
  assert.equal(zipkin.enabled, false);
  assert.match(zipkin.warnings[0]!, /zipkin/);
});

test('traces: protocol and batch settings follow the OTel variables', () => {
  const d = tracingFromEnv({
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '100',
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE: 'many',
  });
  assert.ok(d.enabled);
  assert.equal(d.settings.protocol, 'http/json');
  assert.deepEqual(d.settings.batch, { scheduledDelayMillis: 100 });
  assert.match(d.warnings.join(), /OTEL_BSP_MAX_EXPORT_BATCH_SIZE/);
  const traces = tracingFromEnv({
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
  });
  assert.ok(traces.enabled && traces.settings.protocol === 'http/protobuf', 'the signal variable wins');
  const grpc = tracingFromEnv({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' });
  assert.ok(grpc.enabled && grpc.settings.protocol === 'http/protobuf');
  assert.match(grpc.warnings[0]!, /grpc/);
});

test('traces: traceparent parsing follows W3C trace context; invalid values are null', () => {
  const good = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  assert.deepEqual(parseTraceparent(good), {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    sampled: true,
  });
  assert.equal(formatTraceparent(parseTraceparent(good)!), good);
  assert.equal(parseTraceparent(good.replace(/-01$/, '-00'))!.sampled, false);
  // A later version may carry more fields; its first four are read.
  assert.ok(parseTraceparent('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra'));
  for (const bad of [
    undefined,
    '',
    'garbage',
    `${good}-extra`,
    good.toUpperCase(),
    'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
    '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
    [good, good],
  ])
    assert.equal(parseTraceparent(bad as string), null, String(bad));
});

test('traces: a run trace and root span ids are derived from the run id (every replica agrees)', () => {
  assert.match(runTraceId('run-1'), /^[0-9a-f]{32}$/);
  assert.match(runSpanId('run-1'), /^[0-9a-f]{16}$/);
  assert.equal(runTraceId('run-1'), runTraceId('run-1'));
  assert.notEqual(runTraceId('run-1'), runTraceId('run-2'));
});
