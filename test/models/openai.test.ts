// OpenAI driver against Responses API and Chat Completions SSE fixtures, through @ai-sdk/openai.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  createProviderDriver,
  OPENAI_API_EXTRA_KEY,
  ProviderConfigError,
} from '../../src/models/drivers/index.ts';
import { chatToolMessages } from '../fixtures/providers/chat-wire.ts';
import type { FixtureServer } from '../fixtures/providers/harness.ts';
import { startOpenAiServer } from '../fixtures/providers/openai-server.ts';
import { responsesToolOutputs } from '../fixtures/providers/responses-wire.ts';
import { contractSuite, request, route, WEATHER_TOOL } from './contract-suite.ts';

const bearer = (req: { headers: Record<string, unknown> }, key: string) =>
  assert.equal(req.headers.authorization, `Bearer ${key}`);

contractSuite({
  label: 'openai (responses)',
  start: () => startOpenAiServer(),
  route: (s) => route('openai', `${s.origin}/v1`),
  credentials: { apiKey: 'sk-fixture' },
  model: 'gpt-4.1-mini',
  checkAuth: (req) => {
    bearer(req, 'sk-fixture');
    assert.equal(req.path, '/v1/responses');
    assert.deepEqual(req.body.input[0], { role: 'system', content: 'You are terse.' });
  },
  toolNames: (body) => body.tools.map((t: any) => t.name),
  toolResult: (body) => {
    const out = responsesToolOutputs(body)[0]!;
    return { call_id: out.call_id, content: out.output };
  },
  generation: (body) => ({ temperature: body.temperature, max_tokens: body.max_output_tokens }),
});

contractSuite({
  label: 'openai (chat completions)',
  start: () => startOpenAiServer(),
  route: (s) => route('openai', `${s.origin}/v1`, { [OPENAI_API_EXTRA_KEY]: 'chat' }),
  credentials: { apiKey: 'sk-fixture' },
  model: 'gpt-4.1-mini',
  checkAuth: (req) => {
    bearer(req, 'sk-fixture');
    assert.equal(req.path, '/v1/chat/completions');
    assert.equal(req.body.stream_options.include_usage, true);
  },
  toolNames: (body) => body.tools.map((t: any) => t.function.name),
  toolResult: (body) => {
    const m = chatToolMessages(body)[0]!;
    return { call_id: m.tool_call_id, content: m.content };
  },
  generation: (body) => ({ temperature: body.temperature, max_tokens: body.max_tokens }),
});

describe('openai route options', () => {
  let server: FixtureServer;
  before(async () => {
    server = await startOpenAiServer();
  });
  after(() => server.close());

  test('organization and project travel as OpenAI-Organization / OpenAI-Project headers', async () => {
    const driver = createProviderDriver(route('openai', `${server.origin}/v1`), {
      apiKey: 'k',
      organization: 'org_123',
      project: 'proj_456',
    });
    server.enqueue({ kind: 'text', deltas: ['ok'] });
    await driver.call(request('gpt-4.1-mini', [{ role: 'user', content: 'hi' }]));
    const req = server.requests.at(-1)!;
    assert.equal(req.headers['openai-organization'], 'org_123');
    assert.equal(req.headers['openai-project'], 'proj_456');
  });

  test('reasoning effort, tool choice and parallel tool calls reach the Responses request', async () => {
    const driver = createProviderDriver(route('openai', server.origin), { apiKey: 'k' });
    server.enqueue({ kind: 'tool_call', id: 'call_1', name: 'get_weather', args: { city: 'Rome' } });
    await driver.call(
      request('gpt-5.4', [{ role: 'user', content: 'weather?' }], {
        tools: [WEATHER_TOOL],
        generation: { reasoning_effort: 'low', tool_choice: 'required', allow_parallel_tool_calls: false },
      }),
    );
    const body = server.requests.at(-1)!.body;
    assert.equal(server.requests.at(-1)!.path, '/v1/responses');
    assert.equal(body.reasoning.effort, 'low');
    assert.equal(body.tool_choice, 'required');
    assert.equal(body.parallel_tool_calls, false);
  });

  test('temperature ignored by a reasoning model comes back as a warning, not a failure', async () => {
    const driver = createProviderDriver(route('openai', `${server.origin}/v1`), { apiKey: 'k' });
    server.enqueue({ kind: 'text', deltas: ['ok'] });
    const res = await driver.call(
      request('gpt-5.4', [{ role: 'user', content: 'hi' }], { generation: { temperature: 0.2 } }),
    );
    assert.equal(server.requests.at(-1)!.body.temperature, undefined);
    assert.ok(
      res.warnings?.some((w) => /temperature/.test(w)),
      JSON.stringify(res.warnings),
    );
  });

  test('an unknown openai_api value is a configuration error', () => {
    assert.throws(
      () =>
        createProviderDriver(route('openai', server.origin, { [OPENAI_API_EXTRA_KEY]: 'assistants' }), {
          apiKey: 'k',
        }),
      ProviderConfigError,
    );
  });

  test('no API key is a configuration error, never a silent fallback to OPENAI_API_KEY', () => {
    assert.throws(() => createProviderDriver(route('openai', server.origin), {}), ProviderConfigError);
  });
});
