// openai_compatible driver against a generic `/v1/chat/completions` SSE fixture (Ollama, vLLM,
// llama.cpp server), through @ai-sdk/openai-compatible.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ModelCallError } from '../../src/models/driver.ts';
import { createProviderDriver, ProviderConfigError } from '../../src/models/drivers/index.ts';
import { chatToolMessages } from '../fixtures/providers/chat-wire.ts';
import type { FixtureServer } from '../fixtures/providers/harness.ts';
import { startOpenAiCompatibleServer } from '../fixtures/providers/openai-compatible-server.ts';
import { contractSuite, request, route, WEATHER_TOOL } from './contract-suite.ts';

contractSuite({
  label: 'openai_compatible',
  start: () => startOpenAiCompatibleServer(),
  route: (s) => route('openai_compatible', `${s.origin}/v1`),
  credentials: { apiKey: 'local-key' },
  model: 'qwen3:8b',
  checkAuth: (req) => {
    assert.equal(req.headers.authorization, 'Bearer local-key');
    assert.equal(req.body.stream_options.include_usage, true);
  },
  toolNames: (body) => body.tools.map((t: any) => t.function.name),
  toolResult: (body) => {
    const m = chatToolMessages(body)[0]!;
    return { call_id: m.tool_call_id, content: m.content };
  },
  generation: (body) => ({ temperature: body.temperature, max_tokens: body.max_tokens }),
});

describe('openai_compatible specifics', () => {
  let server: FixtureServer;
  before(async () => {
    server = await startOpenAiCompatibleServer({ usage: false });
  });
  after(() => server.close());

  test('works without an API key (no Authorization header) from a bare origin base_url', async () => {
    const driver = createProviderDriver(route('openai_compatible', server.origin), {});
    server.enqueue({ kind: 'text', deltas: ['hi ', 'there'] });
    const res = await driver.call(request('llama3.2', [{ role: 'user', content: 'hello' }]));
    assert.equal(res.text, 'hi there');
    const req = server.requests.at(-1)!;
    assert.equal(req.path, '/v1/chat/completions');
    assert.equal(req.headers.authorization, undefined);
  });

  test('a server that reports no usage gets an estimate, flagged as such', async () => {
    const driver = createProviderDriver(route('openai_compatible', server.origin), {});
    server.enqueue({ kind: 'text', deltas: ['12345678'] });
    const res = await driver.call(request('llama3.2', [{ role: 'user', content: 'count to eight' }]));
    assert.equal(res.usage.estimated, true);
    assert.equal(res.usage.output_tokens, 2);
    assert.ok(res.usage.input_tokens > 0);
  });

  test('a call to an undeclared tool is handed to the engine, which owns the answer', async () => {
    const driver = createProviderDriver(route('openai_compatible', server.origin), {});
    server.enqueue({ kind: 'tool_call', id: 'call_x', name: 'rm_rf', args: { path: '/' } });
    const res = await driver.call(
      request('llama3.2', [{ role: 'user', content: 'x' }], { tools: [WEATHER_TOOL] }),
    );
    assert.deepEqual(res.tool_calls, [{ id: 'call_x', name: 'rm_rf', arguments: { path: '/' } }]);
    assert.equal(res.stop_reason, 'tool_use');
  });

  test('tool arguments that are not JSON fail the call as retryable', async () => {
    const driver = createProviderDriver(route('openai_compatible', server.origin), {});
    server.enqueue({
      kind: 'tool_call',
      id: 'call_b',
      name: 'get_weather',
      args: {},
      rawArgs: '{"city": Par',
    });
    await assert.rejects(
      driver.call(request('llama3.2', [{ role: 'user', content: 'x' }], { tools: [WEATHER_TOOL] })),
      (err) => err instanceof ModelCallError && err.retryable && /unparsable arguments/.test(err.message),
    );
  });

  test('base_url is required', () => {
    const r = route('openai_compatible', server.origin);
    delete r.base_url;
    assert.throws(() => createProviderDriver(r, {}), ProviderConfigError);
  });
});
