// Anthropic driver against a Messages API SSE fixture, through @ai-sdk/anthropic.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ModelCallError } from '../../src/models/driver.ts';
import { createProviderDriver } from '../../src/models/drivers/index.ts';
import { startAnthropicServer } from '../fixtures/providers/anthropic-server.ts';
import type { FixtureServer } from '../fixtures/providers/harness.ts';
import { contractSuite, request, route, WEATHER_TOOL } from './contract-suite.ts';

const toolResult = (body: any) => {
  const blocks = body.messages.flatMap((m: any) => (Array.isArray(m.content) ? m.content : []));
  const r = blocks.find((b: any) => b.type === 'tool_result');
  const content = typeof r.content === 'string' ? r.content : r.content.map((c: any) => c.text).join('');
  return { call_id: r.tool_use_id, content, is_error: r.is_error === true };
};

contractSuite({
  label: 'anthropic',
  start: startAnthropicServer,
  route: (s) => route('anthropic', `${s.origin}/v1`),
  credentials: { apiKey: 'sk-ant-fixture' },
  model: 'claude-sonnet-4-6',
  checkAuth: (req) => {
    assert.equal(req.headers['x-api-key'], 'sk-ant-fixture');
    assert.equal(req.headers['anthropic-version'], '2023-06-01');
    assert.equal(req.body.system[0].text, 'You are terse.');
  },
  toolNames: (body) => body.tools.map((t: any) => t.name),
  toolResult,
  generation: (body) => ({ temperature: body.temperature, max_tokens: body.max_tokens }),
});

describe('anthropic route options', () => {
  let server: FixtureServer;
  before(async () => {
    server = await startAnthropicServer();
  });
  after(() => server.close());

  test('a bare origin base_url gets /v1; anthropic_version and anthropic_beta_headers reach the wire', async () => {
    const driver = createProviderDriver(
      route('anthropic', server.origin, {
        anthropic_version: '2024-01-01',
        anthropic_beta_headers: ['prompt-caching-2024-07-31', 'token-efficient-tools-2025-02-19'],
      }),
      { apiKey: 'k' },
    );
    server.enqueue({ kind: 'text', deltas: ['ok'] });
    await driver.call(request('claude-sonnet-4-6', [{ role: 'user', content: 'hi' }]));
    const req = server.requests.at(-1)!;
    assert.equal(req.path, '/v1/messages');
    assert.equal(req.headers['anthropic-version'], '2024-01-01');
    assert.match(
      String(req.headers['anthropic-beta']),
      /prompt-caching-2024-07-31,token-efficient-tools-2025-02-19/,
    );
  });

  test('allow_parallel_tool_calls=false and a specific tool_choice map to tool_choice on the wire', async () => {
    const driver = createProviderDriver(route('anthropic', `${server.origin}/v1`), { apiKey: 'k' });
    server.enqueue({ kind: 'tool_call', id: 'toolu_1', name: 'get_weather', args: { city: 'Oslo' } });
    await driver.call(
      request('claude-sonnet-4-6', [{ role: 'user', content: 'weather?' }], {
        tools: [WEATHER_TOOL],
        generation: {
          allow_parallel_tool_calls: false,
          tool_choice: { type: 'specific', name: 'get_weather' },
        },
      }),
    );
    assert.deepEqual(server.requests.at(-1)!.body.tool_choice, {
      type: 'tool',
      name: 'get_weather',
      disable_parallel_tool_use: true,
    });
  });

  test('extended thinking with a forced tool choice fails locally, not retryable, without a request', async () => {
    const driver = createProviderDriver(route('anthropic', `${server.origin}/v1`), { apiKey: 'k' });
    const before = server.requests.length;
    await assert.rejects(
      driver.call(
        request('claude-sonnet-4-6', [{ role: 'user', content: 'x' }], {
          tools: [WEATHER_TOOL],
          generation: { reasoning_effort: 'high', tool_choice: 'required' },
        }),
      ),
      (err) => err instanceof ModelCallError && err.retryable === false,
    );
    assert.equal(server.requests.length, before);
  });

  test('a later system message becomes a marked user message (Anthropic has one system slot)', async () => {
    const driver = createProviderDriver(route('anthropic', `${server.origin}/v1`), { apiKey: 'k' });
    server.enqueue({ kind: 'text', deltas: ['ok'] });
    await driver.call(
      request('claude-sonnet-4-6', [
        { role: 'system', content: 'rules' },
        { role: 'user', content: 'a' },
        { role: 'assistant', content: 'b' },
        { role: 'system', content: 'summary of earlier turns' },
        { role: 'user', content: 'c' },
      ]),
    );
    const body = server.requests.at(-1)!.body;
    assert.equal(body.system.length, 1);
    assert.match(JSON.stringify(body.messages), /\[system notice\]\\nsummary of earlier turns/);
  });
});
