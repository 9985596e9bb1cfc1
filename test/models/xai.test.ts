// xAI driver against an xAI Responses API SSE fixture, through @ai-sdk/xai.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createProviderDriver } from '../../src/models/drivers/index.ts';
import type { FixtureServer } from '../fixtures/providers/harness.ts';
import { responsesToolOutputs } from '../fixtures/providers/responses-wire.ts';
import { startXaiServer } from '../fixtures/providers/xai-server.ts';
import { contractSuite, request, route, WEATHER_TOOL } from './contract-suite.ts';

contractSuite({
  label: 'xai',
  start: startXaiServer,
  route: (s) => route('xai', `${s.origin}/v1`),
  credentials: { apiKey: 'xai-fixture' },
  model: 'grok-4-fast-non-reasoning',
  checkAuth: (req) => {
    assert.equal(req.headers.authorization, 'Bearer xai-fixture');
    assert.equal(req.path, '/v1/responses');
  },
  toolNames: (body) => body.tools.map((t: any) => t.name),
  toolResult: (body) => {
    const out = responsesToolOutputs(body)[0]!;
    return { call_id: out.call_id, content: out.output };
  },
  generation: (body) => ({ temperature: body.temperature, max_tokens: body.max_output_tokens }),
});

describe('xai route options', () => {
  let server: FixtureServer;
  before(async () => {
    server = await startXaiServer();
  });
  after(() => server.close());

  test('allow_parallel_tool_calls reaches the wire', async () => {
    const driver = createProviderDriver(route('xai', server.origin), { apiKey: 'k' });
    server.enqueue({ kind: 'tool_call', id: 'call_1', name: 'get_weather', args: { city: 'Lima' } });
    const res = await driver.call(
      request('grok-4', [{ role: 'user', content: 'weather?' }], {
        tools: [WEATHER_TOOL],
        generation: { allow_parallel_tool_calls: false },
      }),
    );
    assert.deepEqual(res.tool_calls[0]!.arguments, { city: 'Lima' });
    assert.equal(server.requests.at(-1)!.body.parallel_tool_calls, false);
  });
});
