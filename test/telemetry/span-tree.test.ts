// The span tree of one run, exported to an in-memory exporter by an in-process daemon: a run
// with two tool calls and one retried model call (the scripted driver's 429 fault).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import pino from 'pino';
import { resolveServeConfig } from '../../src/config/serve-options.ts';
import { startDaemon } from '../../src/daemon.ts';
import { Kheish } from '../../src/sdk/kheish.ts';
import { createRuntime } from '../../src/telemetry/sdk.ts';
import { runSpanId, runTraceId } from '../../src/telemetry/trace-context.ts';
import { installTracing } from '../../src/telemetry/tracing.ts';
import { ToolRegistry } from '../../src/tools/registry.ts';
import { startAnthropicServer } from '../fixtures/providers/anthropic-server.ts';
import { http, tempDir, waitForRun, writeRoutes } from '../helpers/daemon.ts';

function tools(): ToolRegistry {
  const registry = new ToolRegistry();
  registry.register({
    name: 'add',
    description: 'adds two numbers',
    input_schema: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } } },
    side_effects: false,
    execute: async (args) => ({ content: String(Number(args.a) + Number(args.b)), is_error: false }),
  });
  registry.register({
    name: 'record',
    description: 'records a value',
    input_schema: { type: 'object', properties: { value: { type: 'string' } } },
    side_effects: true,
    execute: async () => ({ content: 'recorded', is_error: false }),
  });
  return registry;
}

const SCRIPT = {
  default: {
    turns: [
      { error: { status: 429, retry_after_ms: 0 } },
      {
        tool_calls: [{ name: 'add', arguments: { a: 1, b: 2 } }],
        usage: { input_tokens: 11, output_tokens: 3 },
      },
      { tool_calls: [{ name: 'record', arguments: { value: '3' } }] },
      { text: 'done', usage: { input_tokens: 20, output_tokens: 1 } },
    ],
  },
};

const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;

test('traces: a run with two tool calls and one retry exports the expected span tree', async () => {
  const exporter = new InMemorySpanExporter();
  const runtime = await createRuntime({ exporter: 'otlp', protocol: 'http/json', batch: {} }, { exporter });
  installTracing(runtime);
  const work = tempDir('kheish-otel-');
  const daemon = await startDaemon(
    resolveServeConfig(
      { bind: '127.0.0.1:0', stateRoot: tempDir(), routesFile: writeRoutes(work, SCRIPT) },
      {},
    ),
    pino({ level: 'silent' }),
    tools(),
  );
  try {
    const status = (await http(daemon.url, 'GET', '/v1/status')).body;
    assert.equal(status.tracing.enabled, true);
    await http(daemon.url, 'POST', '/v1/sessions', { session_id: 's' });
    const run = (await http(daemon.url, 'POST', '/v1/sessions/s/runs', { content: 'add, then record' })).body;
    const done = await waitForRun(daemon.url, run.run_id);
    assert.equal(done.status, 'completed', done.error);
    // The root span is exported after the terminal commit.
    for (let i = 0; i < 100 && !exporter.getFinishedSpans().some((s) => !s.parentSpanContext); i++)
      await new Promise((r) => setTimeout(r, 20));
    const spans = exporter.getFinishedSpans();
    const traceId = runTraceId(run.run_id);
    for (const s of spans) assert.equal(s.spanContext().traceId, traceId, s.name);

    const [root, ...more] = spans.filter((s) => s.name.startsWith('invoke_agent'));
    assert.ok(root && more.length === 0, 'one root span');
    assert.equal(root.spanContext().spanId, runSpanId(run.run_id));
    assert.equal(parentOf(root), undefined);
    assert.equal(root.attributes['gen_ai.operation.name'], 'invoke_agent');
    assert.equal(root.attributes['kheish.run.id'], run.run_id);
    assert.equal(root.attributes['kheish.run.status'], 'completed');
    assert.equal(root.attributes['gen_ai.conversation.id'], 's');

    const byStart = (a: ReadableSpan, b: ReadableSpan) =>
      a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1];
    const chats = spans.filter((s) => s.name === 'chat scripted').sort(byStart);
    assert.equal(chats.length, 4, 'the failed attempt, two tool turns and the final turn');
    for (const c of chats) {
      assert.equal(parentOf(c), root.spanContext().spanId);
      assert.equal(c.attributes['gen_ai.operation.name'], 'chat');
      assert.equal(c.attributes['gen_ai.provider.name'], 'kheish.scripted');
      assert.equal(c.attributes['gen_ai.request.model'], 'scripted');
    }
    const [failed, first, second, last] = chats as [ReadableSpan, ReadableSpan, ReadableSpan, ReadableSpan];
    assert.equal(failed.status.code, 2, 'ERROR');
    assert.equal(failed.attributes['error.type'], '429');
    assert.equal(failed.attributes['kheish.model_call.attempt'], 1);
    assert.equal(first.status.code, 0);
    assert.equal(first.attributes['kheish.model_call.attempt'], 2, 'the retry is its own span');
    assert.deepEqual(first.attributes['gen_ai.response.finish_reasons'], ['tool_use']);
    assert.equal(first.attributes['gen_ai.usage.input_tokens'], 11);
    assert.equal(first.attributes['gen_ai.usage.output_tokens'], 3);
    assert.deepEqual(second.attributes['gen_ai.response.finish_reasons'], ['tool_use']);
    assert.deepEqual(last.attributes['gen_ai.response.finish_reasons'], ['end_turn']);

    const toolSpans = spans.filter((s) => s.attributes['gen_ai.operation.name'] === 'execute_tool');
    assert.deepEqual(toolSpans.map((s) => s.name).sort(), ['execute_tool add', 'execute_tool record']);
    for (const t of toolSpans) {
      assert.equal(parentOf(t), root.spanContext().spanId);
      assert.ok(t.attributes['gen_ai.tool.call.id']);
      assert.equal(t.status.code, 0);
    }
    const permissions = spans.filter((s) => s.name.startsWith('permission '));
    assert.deepEqual(permissions.map((s) => s.name).sort(), ['permission add', 'permission record']);
    for (const p of permissions) {
      assert.equal(parentOf(p), root.spanContext().spanId);
      assert.equal(p.attributes['kheish.permission.decision'], 'allow');
    }
    assert.equal(spans.length, 1 + 4 + 2 + 2, spans.map((s) => s.name).join(', '));
  } finally {
    await daemon.shutdown('test');
    installTracing(null);
  }
});

test('traces: the SDK sends a traceparent on detached and inline submits; the runs continue that trace', async () => {
  const exporter = new InMemorySpanExporter();
  installTracing(await createRuntime({ exporter: 'otlp', protocol: 'http/json', batch: {} }, { exporter }));
  const daemon = await startDaemon(
    resolveServeConfig(
      {
        bind: '127.0.0.1:0',
        stateRoot: tempDir(),
        routesFile: writeRoutes(tempDir('kheish-otel-'), { default: { turns: [{ text: 'ok' }] } }),
      },
      {},
    ),
    pino({ level: 'silent' }),
  );
  try {
    const k = new Kheish({ baseUrl: daemon.url });
    const traceId = 'a'.repeat(31) + 'b';
    const parent = (n: number) => `00-${traceId}-${String(n).padStart(16, '0')}-01`;
    const handle = await k.responses.create({ session: 'sdk', prompt: 'hi', traceparent: parent(1) });
    await handle.wait();
    await k.sessions.create({ session_id: 'sdk-inline' });
    await k.sessions.input('sdk-inline', { content: 'hi' }, { traceparent: parent(2) });
    const roots = () => exporter.getFinishedSpans().filter((s) => s.name.startsWith('invoke_agent'));
    for (let i = 0; i < 100 && roots().length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    const parents = roots()
      .map((r) => {
        assert.equal(r.spanContext().traceId, traceId);
        return r.parentSpanContext?.spanId;
      })
      .sort();
    assert.deepEqual(parents, [parent(1).split('-')[2], parent(2).split('-')[2]]);
  } finally {
    await daemon.shutdown('test');
    installTracing(null);
  }
});

test('traces: a provider request carries the traceparent of its model call span', async () => {
  const exporter = new InMemorySpanExporter();
  installTracing(await createRuntime({ exporter: 'otlp', protocol: 'http/json', batch: {} }, { exporter }));
  const fixture = await startAnthropicServer();
  const work = tempDir('kheish-otel-provider-');
  writeFileSync(
    join(work, 'routes.toml'),
    `version = 1\n[routes.claude]\ndriver = "anthropic"\ndefault_model = "claude-sonnet-4-6"\napi_key = "test-key"\nbase_url = "${fixture.origin}"\n`,
  );
  const daemon = await startDaemon(
    resolveServeConfig(
      { bind: '127.0.0.1:0', stateRoot: tempDir(), routesFile: join(work, 'routes.toml') },
      {},
    ),
    pino({ level: 'silent' }),
  );
  try {
    fixture.enqueue({ kind: 'text', deltas: ['hel', 'lo'] });
    await http(daemon.url, 'POST', '/v1/sessions', { session_id: 'p' });
    const run = (await http(daemon.url, 'POST', '/v1/sessions/p/runs', { content: 'hi' })).body;
    assert.equal((await waitForRun(daemon.url, run.run_id)).status, 'completed');
    const chat = exporter.getFinishedSpans().find((s) => s.name === 'chat claude-sonnet-4-6')!;
    assert.equal(chat.attributes['gen_ai.provider.name'], 'anthropic');
    const header = String(fixture.requests[0]!.headers.traceparent);
    assert.equal(header, `00-${runTraceId(run.run_id)}-${chat.spanContext().spanId}-01`);
  } finally {
    await daemon.shutdown('test');
    installTracing(null);
    await fixture.close();
  }
});

test('traces: a failed provider call span carries no secret the provider quoted back', async () => {
  const exporter = new InMemorySpanExporter();
  installTracing(await createRuntime({ exporter: 'otlp', protocol: 'http/json', batch: {} }, { exporter }));
  const fixture = await startAnthropicServer();
  const key = 'sk-otel-test-secret-4f9c2a7e1b';
  process.env.KHEISH_OTEL_TEST_KEY = key;
  const work = tempDir('kheish-otel-secret-');
  writeFileSync(
    join(work, 'routes.toml'),
    `version = 1\n[routes.claude]\ndriver = "anthropic"\ndefault_model = "claude-sonnet-4-6"\napi_key_env = "KHEISH_OTEL_TEST_KEY"\nbase_url = "${fixture.origin}"\n`,
  );
  const daemon = await startDaemon(
    resolveServeConfig(
      { bind: '127.0.0.1:0', stateRoot: tempDir(), routesFile: join(work, 'routes.toml') },
      {},
    ),
    pino({ level: 'silent' }),
  );
  try {
    fixture.enqueue({ kind: 'error', status: 401, message: `invalid x-api-key ${key}` });
    await http(daemon.url, 'POST', '/v1/sessions', { session_id: 'k' });
    const run = (await http(daemon.url, 'POST', '/v1/sessions/k/runs', { content: 'hi' })).body;
    assert.equal((await waitForRun(daemon.url, run.run_id)).status, 'failed');
    for (let i = 0; i < 100 && !exporter.getFinishedSpans().some((s) => !s.parentSpanContext); i++)
      await new Promise((r) => setTimeout(r, 20));
    const chat = exporter.getFinishedSpans().find((s) => s.name === 'chat claude-sonnet-4-6')!;
    assert.equal(chat.attributes['error.type'], '401');
    assert.match(String(chat.status.message), /invalid x-api-key/);
    const everything = JSON.stringify(
      exporter.getFinishedSpans().map((s) => ({ a: s.attributes, st: s.status, e: s.events })),
    );
    assert.ok(!everything.includes(key), everything);
  } finally {
    await daemon.shutdown('test');
    installTracing(null);
    await fixture.close();
    delete process.env.KHEISH_OTEL_TEST_KEY;
  }
});
