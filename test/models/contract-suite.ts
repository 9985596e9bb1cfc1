// The contract every provider driver must keep, run against that provider's wire-format fixture
// through the real AI SDK. Each `<provider>.test.ts` supplies how to read its wire format.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RouteConfig } from '../../src/config/routes-file.ts';
import {
  type ChatMessage,
  ModelCallError,
  type ModelDriver,
  type ModelRequest,
} from '../../src/models/driver.ts';
import { createProviderDriver, type ProviderCredentials } from '../../src/models/drivers/index.ts';
import type { FixtureServer, RecordedRequest } from '../fixtures/providers/harness.ts';

export interface ProviderSpec {
  label: string;
  start(): Promise<FixtureServer>;
  route(server: FixtureServer): RouteConfig;
  credentials: ProviderCredentials;
  model: string;
  /** Asserts the request authenticated the way the provider expects. */
  checkAuth(req: RecordedRequest): void;
  toolNames(body: any): string[];
  /** The tool result found in a follow-up request, in the provider's own terms. */
  toolResult(body: any): { call_id?: string; name?: string; content: string; is_error?: boolean };
  generation(body: any): { temperature?: number; max_tokens?: number };
}

export function route(
  driver: RouteConfig['driver'],
  base_url: string,
  extra: Record<string, unknown> = {},
): RouteConfig {
  return {
    route_id: `${driver}-fixture`,
    driver,
    default_model: 'fixture-model',
    base_url,
    max_retries: 3,
    fallback_routes: [],
    context_window_tokens: 0,
    capabilities: {},
    extra: { base_url, ...extra },
  };
}

export const WEATHER_TOOL = {
  name: 'get_weather',
  description: 'Current weather for a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

export function request(
  model: string,
  messages: ChatMessage[],
  extra: Partial<ModelRequest> = {},
): ModelRequest & { deltas: string[] } {
  const deltas: string[] = [];
  return {
    run_id: 'run-fixture',
    model,
    messages,
    input_text: messages.findLast((m) => m.role === 'user')?.content ?? '',
    call_index: 0,
    tools: [],
    signal: new AbortController().signal,
    onTextDelta: (d) => deltas.push(d),
    ...extra,
    deltas,
  };
}

const hello: ChatMessage[] = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Say hello' },
];

async function rejectsWithModelError(p: Promise<unknown>): Promise<ModelCallError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ModelCallError, `expected ModelCallError, got ${err}`);
    return err;
  }
  assert.fail('the call should have failed');
}

export function contractSuite(spec: ProviderSpec): void {
  describe(`${spec.label} driver contract`, () => {
    let server: FixtureServer;
    let driver: ModelDriver;
    before(async () => {
      server = await spec.start();
      driver = createProviderDriver(spec.route(server), spec.credentials);
    });
    after(() => server.close());
    const last = () => server.requests.at(-1)!;

    test('plain text: deltas arrive in order and make up the final text', async () => {
      server.enqueue({ kind: 'text', deltas: ['Hel', 'lo, ', 'world'] });
      const req = request(spec.model, hello);
      const res = await driver.call(req);
      assert.deepEqual(req.deltas, ['Hel', 'lo, ', 'world']);
      assert.equal(res.text, 'Hello, world');
      assert.deepEqual(res.tool_calls, []);
      assert.equal(res.stop_reason, 'end_turn');
      spec.checkAuth(last());
    });

    test('tool call round trip: call parsed, then the tool result produces text', async () => {
      server.enqueue({
        kind: 'tool_call',
        id: 'call_w1',
        name: 'get_weather',
        args: { city: 'Paris' },
        text: 'Let me check.',
      });
      const firstReq = request(spec.model, hello, { tools: [WEATHER_TOOL] });
      const first = await driver.call(firstReq);
      assert.equal(first.text, 'Let me check.');
      assert.equal(firstReq.deltas.join(''), 'Let me check.');
      assert.deepEqual(spec.toolNames(last().body), ['get_weather']);
      assert.equal(first.stop_reason, 'tool_use');
      assert.equal(first.tool_calls.length, 1);
      const call = first.tool_calls[0]!;
      assert.equal(call.name, 'get_weather');
      assert.deepEqual(call.arguments, { city: 'Paris' });
      assert.ok(call.id.length > 0);

      server.enqueue({ kind: 'text', deltas: ['It is ', 'sunny.'] });
      const messages: ChatMessage[] = [
        ...hello,
        { role: 'assistant', content: first.text, tool_calls: first.tool_calls },
        { role: 'tool', tool_call_id: call.id, name: call.name, content: '18C, sunny' },
      ];
      const second = await driver.call(request(spec.model, messages, { tools: [WEATHER_TOOL] }));
      assert.equal(second.text, 'It is sunny.');
      assert.equal(second.stop_reason, 'end_turn');
      const result = spec.toolResult(last().body);
      assert.match(result.content, /18C, sunny/);
      if (result.call_id !== undefined) assert.equal(result.call_id, call.id);
      if (result.name !== undefined) assert.equal(result.name, 'get_weather');
    });

    test('a failed tool travels back flagged as an error', async () => {
      server.enqueue({ kind: 'text', deltas: ['sorry'] });
      const messages: ChatMessage[] = [
        ...hello,
        {
          role: 'assistant',
          content: '',
          tool_calls: [{ id: 'call_e1', name: 'get_weather', arguments: {} }],
        },
        {
          role: 'tool',
          tool_call_id: 'call_e1',
          name: 'get_weather',
          content: 'city missing',
          is_error: true,
        },
      ];
      await driver.call(request(spec.model, messages, { tools: [WEATHER_TOOL] }));
      const result = spec.toolResult(last().body);
      assert.match(result.content, /city missing/);
      if (result.is_error !== undefined) assert.equal(result.is_error, true);
    });

    test('429 with Retry-After fails retryable with retryAfterMs, then the next call succeeds', async () => {
      const before = server.requests.length;
      server.enqueue(
        { kind: 'error', status: 429, headers: { 'retry-after': '3' }, message: 'slow down' },
        { kind: 'text', deltas: ['back'] },
      );
      const err = await rejectsWithModelError(driver.call(request(spec.model, hello)));
      assert.equal(err.status, 429);
      assert.equal(err.retryable, true);
      assert.equal(err.retryAfterMs, 3000);
      const res = await driver.call(request(spec.model, hello));
      assert.equal(res.text, 'back');
      // The SDK must not retry on its own: one HTTP request per driver call.
      assert.equal(server.requests.length - before, 2);
    });

    test('retry-after-ms wins over retry-after', async () => {
      server.enqueue({
        kind: 'error',
        status: 503,
        headers: { 'retry-after-ms': '250', 'retry-after': '9' },
      });
      const err = await rejectsWithModelError(driver.call(request(spec.model, hello)));
      assert.equal(err.status, 503);
      assert.equal(err.retryable, true);
      assert.equal(err.retryAfterMs, 250);
    });

    test('4xx other than 408/409/429 is not retryable', async () => {
      server.enqueue({ kind: 'error', status: 400, message: 'bad request' });
      const bad = await rejectsWithModelError(driver.call(request(spec.model, hello)));
      assert.equal(bad.status, 400);
      assert.equal(bad.retryable, false);
      server.enqueue({ kind: 'error', status: 401, message: 'invalid key' });
      const denied = await rejectsWithModelError(driver.call(request(spec.model, hello)));
      assert.equal(denied.retryable, false);
      server.enqueue({ kind: 'error', status: 408, message: 'timeout' });
      assert.equal((await rejectsWithModelError(driver.call(request(spec.model, hello)))).retryable, true);
    });

    test('a malformed stream fails retryable', async () => {
      server.enqueue({ kind: 'malformed', deltas: ['par', 'tial'] });
      const err = await rejectsWithModelError(driver.call(request(spec.model, hello)));
      assert.equal(err.retryable, true);
      assert.equal(err.status, null);
    });

    test('a connection cut mid-stream fails retryable', async () => {
      server.enqueue({ kind: 'cut', deltas: ['par', 'tial'] });
      const err = await rejectsWithModelError(driver.call(request(spec.model, hello)));
      assert.equal(err.retryable, true);
    });

    test('a stream that ends cleanly before the model finished fails retryable', async () => {
      server.enqueue({ kind: 'truncated', deltas: ['par', 'tial'] });
      const err = await rejectsWithModelError(driver.call(request(spec.model, hello)));
      assert.equal(err.retryable, true);
    });

    test('an overload reported inside the stream fails retryable with a 5xx status', async () => {
      server.enqueue({ kind: 'stream_error', deltas: ['par'], status: 529, message: 'Overloaded' });
      const err = await rejectsWithModelError(driver.call(request(spec.model, hello)));
      assert.equal(err.retryable, true);
      assert.ok(err.status !== null && err.status >= 500, `status ${err.status}`);
      assert.match(err.message, /Overloaded/);
    });

    test('usage: input, output and cached input tokens are mapped', async () => {
      server.enqueue({ kind: 'text', deltas: ['ok'], usage: { input: 1200, output: 34, cached: 1000 } });
      const res = await driver.call(request(spec.model, hello));
      assert.equal(res.usage.input_tokens, 1200);
      assert.equal(res.usage.output_tokens, 34);
      assert.equal(res.usage.cached_input_tokens, 1000);
      assert.notEqual(res.usage.estimated, true);
    });

    test('generation overrides reach the wire; a length stop maps to max_tokens', async () => {
      server.enqueue({ kind: 'text', deltas: ['trunc'], stop: 'max_tokens' });
      const res = await driver.call(
        request(spec.model, hello, { generation: { temperature: 0.3, max_output_tokens: 123 } }),
      );
      assert.deepEqual(spec.generation(last().body), { temperature: 0.3, max_tokens: 123 });
      assert.equal(res.stop_reason, 'max_tokens');
    });

    test('cancellation mid-stream rejects with the abort reason and closes the connection', async () => {
      server.enqueue({ kind: 'hang', deltas: ['thinking'] });
      const ac = new AbortController();
      const reason = new Error('cancelled by test');
      const req = request(spec.model, hello, {
        signal: ac.signal,
        onTextDelta: () => ac.abort(reason),
      });
      await assert.rejects(driver.call(req), (err) => err === reason);
      await last().closed;
    });

    test('an already aborted signal rejects without any request', async () => {
      const before = server.requests.length;
      const reason = new Error('gone');
      await assert.rejects(
        driver.call(request(spec.model, hello, { signal: AbortSignal.abort(reason) })),
        (err) => err === reason,
      );
      assert.equal(server.requests.length, before);
    });
  });
}
