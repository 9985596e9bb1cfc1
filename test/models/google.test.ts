// Google driver against a Gemini `streamGenerateContent?alt=sse` fixture, through @ai-sdk/google.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createProviderDriver } from '../../src/models/drivers/index.ts';
import { startGoogleServer } from '../fixtures/providers/google-server.ts';
import type { FixtureServer } from '../fixtures/providers/harness.ts';
import { contractSuite, request, route } from './contract-suite.ts';

contractSuite({
  label: 'google',
  start: startGoogleServer,
  route: (s) => route('google', `${s.origin}/v1beta`),
  credentials: { apiKey: 'AIza-fixture' },
  model: 'gemini-2.5-flash',
  checkAuth: (req) => {
    assert.equal(req.headers['x-goog-api-key'], 'AIza-fixture');
    assert.equal(req.path, '/v1beta/models/gemini-2.5-flash:streamGenerateContent');
    assert.deepEqual(req.body.systemInstruction.parts, [{ text: 'You are terse.' }]);
  },
  toolNames: (body) => body.tools.flatMap((t: any) => t.functionDeclarations.map((f: any) => f.name)),
  toolResult: (body) => {
    const part = body.contents
      .flatMap((c: any) => c.parts)
      .find((p: any) => p.functionResponse !== undefined).functionResponse;
    // Gemini matches results to calls by name; there are no call ids on this wire.
    return { name: part.name, content: JSON.stringify(part.response) };
  },
  generation: (body) => ({
    temperature: body.generationConfig.temperature,
    max_tokens: body.generationConfig.maxOutputTokens,
  }),
});

describe('google route options', () => {
  let server: FixtureServer;
  before(async () => {
    server = await startGoogleServer();
  });
  after(() => server.close());

  test('a bare origin base_url gets /v1beta; a later system message becomes a user turn', async () => {
    const driver = createProviderDriver(route('google', server.origin), { apiKey: 'k' });
    server.enqueue({ kind: 'text', deltas: ['ok'] });
    await driver.call(
      request('gemini-2.5-flash', [
        { role: 'system', content: 'rules' },
        { role: 'user', content: 'a' },
        { role: 'assistant', content: 'b' },
        { role: 'system', content: 'compacted summary' },
        { role: 'user', content: 'c' },
      ]),
    );
    const req = server.requests.at(-1)!;
    assert.equal(req.path, '/v1beta/models/gemini-2.5-flash:streamGenerateContent');
    assert.deepEqual(req.body.systemInstruction.parts, [{ text: 'rules' }]);
    assert.match(JSON.stringify(req.body.contents), /\[system notice\]\\ncompacted summary/);
  });
});
