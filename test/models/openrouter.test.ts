// OpenRouter driver against an OpenRouter chat-completions SSE fixture, through
// @openrouter/ai-sdk-provider.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createProviderDriver } from '../../src/models/drivers/index.ts';
import { chatToolMessages } from '../fixtures/providers/chat-wire.ts';
import type { FixtureServer } from '../fixtures/providers/harness.ts';
import { startOpenRouterServer } from '../fixtures/providers/openrouter-server.ts';
import { contractSuite, request, route, WEATHER_TOOL } from './contract-suite.ts';

contractSuite({
  label: 'openrouter',
  start: startOpenRouterServer,
  route: (s) => route('openrouter', `${s.origin}/api/v1`, { model_support: 'any' }),
  credentials: { apiKey: 'sk-or-fixture' },
  model: 'openai/gpt-5.4-mini',
  checkAuth: (req) => {
    assert.equal(req.headers.authorization, 'Bearer sk-or-fixture');
    assert.equal(req.body.model, 'openai/gpt-5.4-mini');
    assert.deepEqual(req.body.usage, { include: true });
  },
  toolNames: (body) => body.tools.map((t: any) => t.function.name),
  toolResult: (body) => {
    const m = chatToolMessages(body)[0]!;
    return { call_id: m.tool_call_id, content: m.content };
  },
  generation: (body) => ({ temperature: body.temperature, max_tokens: body.max_tokens }),
});

describe('openrouter route options', () => {
  let server: FixtureServer;
  before(async () => {
    server = await startOpenRouterServer();
  });
  after(() => server.close());

  test('a bare origin base_url gets /api/v1; reasoning effort and parallel tool calls are raw body fields', async () => {
    const driver = createProviderDriver(route('openrouter', server.origin), { apiKey: 'k' });
    server.enqueue({ kind: 'tool_call', id: 'call_1', name: 'get_weather', args: { city: 'Kyiv' } });
    await driver.call(
      request('anthropic/claude-sonnet-4', [{ role: 'user', content: 'weather?' }], {
        tools: [WEATHER_TOOL],
        generation: { reasoning_effort: 'high', allow_parallel_tool_calls: false },
      }),
    );
    const req = server.requests.at(-1)!;
    assert.equal(req.path, '/api/v1/chat/completions');
    assert.deepEqual(req.body.reasoning, { effort: 'high' });
    assert.equal(req.body.parallel_tool_calls, false);
  });
});
