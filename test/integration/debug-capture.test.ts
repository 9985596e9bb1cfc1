// Debug capture end to end (issue 13): a real provider route (an OpenAI-compatible server on
// loopback, through the AI SDK) captured at each level, checked against what the server really
// received, including the runtime system prompt; encryption at rest; budgets; the TTL worker.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Kheish } from '../../src/sdk/index.ts';
import { assertProblem } from '../conformance/support.ts';
import type { FixtureServer } from '../fixtures/providers/harness.ts';
import { startOpenAiCompatibleServer } from '../fixtures/providers/openai-compatible-server.ts';
import { http, startDaemon, type TestDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';
import { queryState } from '../helpers/state-query.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PROVIDER_KEY = 'prov-key-7f3a9c1e5b42';
const EMAIL = 'ops@example.org';
const SYSTEM_PROMPT = 'You are the debug capture test assistant.';

async function run(d: TestDaemon, session: string, content: string, expect = 'completed') {
  await http(d.url, 'POST', '/v1/sessions', { session_id: session });
  const sub = await http(d.url, 'POST', `/v1/sessions/${session}/runs`, { content });
  assert.equal(sub.status, 202, sub.text);
  const done = await waitForRun(d.url, sub.body.run_id);
  assert.equal(done.status, expect, done.error);
  return done;
}

async function bundle(d: TestDaemon, runId: string): Promise<Map<string, string>> {
  const view = await http(d.url, 'GET', `/v1/runs/${runId}/debug`);
  assert.equal(view.status, 200, view.text);
  const out = new Map<string, string>();
  for (const a of view.body.artifacts)
    out.set(
      a.artifact_id,
      (await http(d.url, 'GET', `/v1/runs/${runId}/debug/artifacts/${a.artifact_id}`)).text,
    );
  return out;
}

describe('a provider route at each level', () => {
  let fixture: FixtureServer;
  let d: TestDaemon;
  before(async () => {
    fixture = await startOpenAiCompatibleServer();
    const dir = tempDir('kheish-debug-routes-');
    writeFileSync(
      join(dir, 'routes.toml'),
      `version = 1\ndefault_route = "local"\n\n[routes.local]\ndriver = "openai_compatible"\ndefault_model = "llama-debug"\napi_key_env = "DEBUG_TEST_PROVIDER_KEY"\nbase_url = "${fixture.origin}"\n`,
    );
    d = await startDaemon({
      args: ['--routes-file', join(dir, 'routes.toml')],
      env: { DEBUG_TEST_PROVIDER_KEY: PROVIDER_KEY },
    });
    const prompt = await http(d.url, 'POST', '/v1/runtime/system-prompt', {
      settings: { custom_prompt: SYSTEM_PROMPT },
    });
    assert.equal(prompt.status, 200, prompt.text);
  });
  after(async () => {
    await d?.stop();
    await d?.cleanup();
    await fixture?.close();
  });

  const input = `my key is ${PROVIDER_KEY}, write to ${EMAIL}`;

  test('full: model-request and provider-request show what was sent (system prompt included), credentials masked', async () => {
    assert.equal((await http(d.url, 'POST', '/v1/runtime/debug-level', { level: 'full' })).status, 200);
    fixture.enqueue({ kind: 'text', deltas: ['Noted', ' it.'] });
    const done = await run(d, 'dbg-full', input);
    const sent = fixture.requests.at(-1)!;
    // What the server really received: the runtime prompt as a system message, the raw input.
    assert.deepEqual(sent.body.messages[0], { role: 'system', content: SYSTEM_PROMPT });
    assert.equal(sent.body.messages.at(-1).content, input);
    assert.equal(sent.headers.authorization, `Bearer ${PROVIDER_KEY}`);

    const a = await bundle(d, done.run_id);
    assert.deepEqual(
      [...a.keys()],
      [
        'turn-0001-attempt-0001-model-request',
        'turn-0001-attempt-0001-provider-request',
        'turn-0001-attempt-0001-provider-events',
        'turn-0001-attempt-0001-model-response',
      ],
    );
    for (const [id, text] of a) assert.ok(!text.includes(PROVIDER_KEY), `${id} holds no provider key`);

    const modelRequest = JSON.parse(a.get('turn-0001-attempt-0001-model-request')!);
    assert.equal(modelRequest.level, 'full');
    assert.equal(modelRequest.route_id, 'local');
    assert.equal(modelRequest.model, 'llama-debug');
    assert.deepEqual(modelRequest.messages[0], { role: 'system', content: SYSTEM_PROMPT });
    assert.equal(modelRequest.messages.at(-1).content, `my key is [redacted], write to ${EMAIL}`);

    const providerRequest = JSON.parse(a.get('turn-0001-attempt-0001-provider-request')!);
    assert.equal(providerRequest.method, 'POST');
    assert.equal(providerRequest.url, `${fixture.origin}/v1/chat/completions`);
    assert.equal(providerRequest.headers.authorization, '[redacted]');
    assert.equal(providerRequest.body.model, 'llama-debug');
    assert.equal(providerRequest.body.stream, true);
    // The wire body is the server's body, the key masked.
    assert.deepEqual(
      providerRequest.body.messages,
      sent.body.messages.map((m: { content: string }) => ({
        ...m,
        content: m.content.replace(PROVIDER_KEY, '[redacted]'),
      })),
    );

    const events = a
      .get('turn-0001-attempt-0001-provider-events')!
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(events[0].type, 'response');
    assert.equal(events[0].status, 200);
    assert.match(events[0].headers['content-type'], /text\/event-stream/);
    const deltas = events
      .filter((e) => e.type === 'event' && typeof e.data === 'object')
      .map((e) => e.data.choices?.[0]?.delta?.content ?? '')
      .join('');
    assert.equal(deltas, 'Noted it.');
    assert.equal(events.at(-1).data, '[DONE]');

    const response = JSON.parse(a.get('turn-0001-attempt-0001-model-response')!);
    assert.equal(response.text, 'Noted it.');
    assert.equal(response.usage.input_tokens, 12);
    assert.equal(response.stop_reason, 'end_turn');
  });

  test('redacted: personal data masked too; on: structure only', async () => {
    assert.equal((await http(d.url, 'POST', '/v1/runtime/debug-level', { level: 'redacted' })).status, 200);
    fixture.enqueue({ kind: 'text', deltas: [`mail ${EMAIL}`] });
    const red = await bundle(d, (await run(d, 'dbg-red', input)).run_id);
    for (const [id, text] of red) {
      assert.ok(!text.includes(PROVIDER_KEY), `${id}: no key`);
      assert.ok(!text.includes(EMAIL), `${id}: no e-mail address`);
    }
    const req = JSON.parse(red.get('turn-0001-attempt-0001-model-request')!);
    assert.equal(req.messages.at(-1).content, 'my key is [redacted], write to [redacted:email]');
    assert.equal(req.messages[0].content, SYSTEM_PROMPT);

    assert.equal((await http(d.url, 'POST', '/v1/runtime/debug-level', { level: 'on' })).status, 200);
    fixture.enqueue({ kind: 'text', deltas: ['structure only'] });
    const on = await bundle(d, (await run(d, 'dbg-on', input)).run_id);
    assert.equal(on.size, 4);
    for (const [id, text] of on) {
      assert.ok(!text.includes(PROVIDER_KEY) && !text.includes(EMAIL), `${id}: no content`);
      assert.ok(!text.includes(SYSTEM_PROMPT) && !text.includes('structure only'), `${id}: no content`);
    }
    const onReq = JSON.parse(on.get('turn-0001-attempt-0001-model-request')!);
    assert.deepEqual(
      onReq.messages.map((m: { role: string }) => m.role),
      ['system', 'user'],
    );
    assert.match(onReq.messages[1].content, /^\[text chars=\d+ sha256=[0-9a-f]{16}\]$/);
    const onRes = JSON.parse(on.get('turn-0001-attempt-0001-model-response')!);
    assert.equal(onRes.usage.output_tokens, 7, 'numbers stay: usage, sizes, timings');
  });

  test('a failed attempt and its retry are two attempts of one turn', async () => {
    assert.equal((await http(d.url, 'POST', '/v1/runtime/debug-level', { level: 'full' })).status, 200);
    fixture.enqueue(
      { kind: 'error', status: 503, message: 'overloaded' },
      { kind: 'text', deltas: ['second try'] },
    );
    const a = await bundle(d, (await run(d, 'dbg-retry', 'retry please')).run_id);
    const failed = JSON.parse(a.get('turn-0001-attempt-0001-model-response')!);
    assert.equal(failed.error.status, 503);
    assert.equal(failed.error.retryable, true);
    const events = a
      .get('turn-0001-attempt-0001-provider-events')!
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(events[0].status, 503);
    assert.equal(JSON.parse(a.get('turn-0001-attempt-0002-model-response')!).text, 'second try');
  });
});

test('encryption at rest: the stored body is not plaintext, the API returns plaintext, another key cannot read it', async () => {
  const key = randomBytes(32).toString('base64');
  const d = await startDaemon({ env: { KHEISH_DEBUG_CAPTURE_KEY: key } });
  let restarted: TestDaemon | null = null;
  try {
    assert.equal((await http(d.url, 'POST', '/v1/runtime/debug-level', { level: 'full' })).status, 200);
    const runtime = await http(d.url, 'GET', '/v1/runtime');
    assert.equal(runtime.body.debug_capture.encryption.enabled, true);
    const keyId = runtime.body.debug_capture.encryption.key_id;
    assert.match(keyId, /^[0-9a-f]{16}$/);
    const done = await run(d, 'dbg-enc', 'plaintext-marker-3141');
    const view = await http(d.url, 'GET', `/v1/runs/${done.run_id}/debug`);
    for (const a of view.body.artifacts) {
      assert.equal(a.encrypted, true);
      assert.equal(a.key_id, keyId);
      assert.ok(a.bytes > a.plaintext_bytes, 'the envelope is larger than the plaintext');
    }
    const rows = await queryState<{ artifact_id: string; body: Uint8Array }>(
      d,
      'select artifact_id, body from debug_artifacts where run_id = ?',
      [done.run_id],
    );
    assert.equal(rows.length, view.body.artifacts.length);
    for (const r of rows) {
      const stored = Buffer.from(r.body).toString('utf8');
      assert.ok(!stored.includes('plaintext-marker-3141'), `${r.artifact_id} is not stored as plaintext`);
      assert.ok(!stored.includes('"messages"'));
    }
    const id = 'turn-0001-attempt-0001-model-request';
    const plain = await http(d.url, 'GET', `/v1/runs/${done.run_id}/debug/artifacts/${id}`);
    assert.equal(plain.status, 200);
    assert.ok(plain.text.includes('plaintext-marker-3141'));
    await d.stop();
    restarted = await d.restart({ env: { KHEISH_DEBUG_CAPTURE_KEY: randomBytes(32).toString('base64') } });
    const wrong = await http(restarted.url, 'GET', `/v1/runs/${done.run_id}/debug/artifacts/${id}`);
    assertProblem(wrong, 409, 'runs', 'run_debug_artifact_unreadable');
    assert.ok(wrong.body.detail.includes(keyId));
  } finally {
    await (restarted ?? d).stop().catch(() => undefined);
    await d.cleanup();
  }
});

test('budgets: an artifact is cut at the artifact and run budgets (truncated, original_bytes); past the count it is dropped', async () => {
  const script = {
    default: {
      turns: [{ tool_calls: [{ name: 'list_files', arguments: { path: '.' } }] }, { text: 'done' }],
    },
  };
  const d = await startDaemon({
    script,
    env: {
      KHEISH_DEBUG_MAX_ARTIFACT_BYTES: '300',
      KHEISH_DEBUG_MAX_RUN_BYTES: '500',
      KHEISH_DEBUG_MAX_ARTIFACTS_PER_RUN: '3',
    },
  });
  try {
    assert.equal((await http(d.url, 'POST', '/v1/runtime/debug-level', { level: 'full' })).status, 200);
    const done = await run(d, 'dbg-budget', 'budgets');
    const view = await http(d.url, 'GET', `/v1/runs/${done.run_id}/debug`);
    const arts = view.body.artifacts;
    assert.equal(arts.length, 3, 'the fourth artifact is over the per-run count');
    assert.deepEqual(
      arts.map((a: { plaintext_bytes: number }) => a.plaintext_bytes),
      [300, 200, 0],
    );
    for (const a of arts) {
      assert.equal(a.truncated, true);
      assert.ok(a.original_bytes > a.plaintext_bytes);
    }
    const cut = await http(d.url, 'GET', `/v1/runs/${done.run_id}/debug/artifacts/${arts[0].artifact_id}`);
    assert.equal(Buffer.byteLength(cut.text), 300);
    const status = await http(d.url, 'GET', '/v1/status');
    assert.equal(status.body.debug.dropped_artifacts, 1);
    assert.equal(status.body.debug.truncated_artifacts, 3);
    const runtime = await http(d.url, 'GET', '/v1/runtime');
    assert.equal(runtime.body.debug_capture.max_artifact_bytes, 300);
    assert.equal(runtime.body.debug_capture.max_artifacts_per_run, 3);
  } finally {
    await d.stop();
    await d.cleanup();
  }
});

test('the TTL worker removes stale bundles of terminal runs and keeps those of live runs', async () => {
  const script = {
    rules: [{ match: 'slow', turns: [{ delay_ms: 8000, text: 'slept' }] }],
    default: { turns: [{ text: 'quick' }] },
  };
  const d = await startDaemon({
    script,
    env: { KHEISH_DEBUG_TTL_MS: '1500', KHEISH_DEBUG_GC_INTERVAL_MS: '200' },
  });
  try {
    assert.equal((await http(d.url, 'POST', '/v1/runtime/debug-level', { level: 'on' })).status, 200);
    const quick = await run(d, 'dbg-ttl-a', 'quick one');
    await http(d.url, 'POST', '/v1/sessions', { session_id: 'dbg-ttl-b' });
    const slow = (await http(d.url, 'POST', '/v1/sessions/dbg-ttl-b/runs', { content: 'slow one' })).body;
    // The slow run's request artifact is written when its model call starts.
    for (let i = 0; i < 50 && (await http(d.url, 'GET', `/v1/runs/${slow.run_id}/debug`)).status !== 200; i++)
      await sleep(50);
    assert.equal((await http(d.url, 'GET', `/v1/runs/${quick.run_id}/debug`)).status, 200);
    await sleep(2600);
    assertProblem(
      await http(d.url, 'GET', `/v1/runs/${quick.run_id}/debug`),
      404,
      'runs',
      'run_debug_not_found',
    );
    const live = await http(d.url, 'GET', `/v1/runs/${slow.run_id}`);
    assert.equal(live.body.status, 'running');
    assert.equal(
      (await http(d.url, 'GET', `/v1/runs/${slow.run_id}/debug`)).status,
      200,
      'a live run keeps its evidence past the TTL',
    );
    const status = await http(d.url, 'GET', '/v1/status');
    assert.ok(status.body.debug.retention.pruned_runs >= 1);
    assert.equal((await http(d.url, 'GET', `/v1/runs/${quick.run_id}`)).body.status, 'completed');
    await http(d.url, 'POST', `/v1/runs/${slow.run_id}/cancel`);
  } finally {
    await d.stop();
    await d.cleanup();
  }
});

test('the level in force when a model call starts covers the whole call; the SDK reads bundles and prunes', async () => {
  const script = {
    rules: [{ match: 'slow', turns: [{ delay_ms: 1500, text: 'slow answer' }] }],
    default: { turns: [{ text: 'quick' }] },
  };
  const d = await startDaemon({ script });
  try {
    const k = new Kheish({ baseUrl: d.url });
    await k.runtime.setDebugLevel('full');
    await http(d.url, 'POST', '/v1/sessions', { session_id: 'dbg-snap' });
    const slow = (await http(d.url, 'POST', '/v1/sessions/dbg-snap/runs', { content: 'slow please' })).body;
    for (let i = 0; i < 60 && (await http(d.url, 'GET', `/v1/runs/${slow.run_id}/debug`)).status !== 200; i++)
      await sleep(25);
    // Turned off while the call is in flight: its response is still captured, at its level.
    await k.runtime.setDebugLevel('off');
    assert.equal((await waitForRun(d.url, slow.run_id)).status, 'completed');
    const view = await k.runs.debug.get(slow.run_id);
    assert.equal(view.level, 'full');
    assert.deepEqual(
      view.artifacts.map((a) => a.artifact_id),
      ['turn-0001-attempt-0001-model-request', 'turn-0001-attempt-0001-model-response'],
    );
    const text = await k.runs.debug.artifact(slow.run_id, 'turn-0001-attempt-0001-model-response');
    assert.equal(JSON.parse(text).text, 'slow answer');
    // The next call starts under `off`: nothing.
    const after = await run(d, 'dbg-snap-2', 'quick');
    assertProblem(
      await http(d.url, 'GET', `/v1/runs/${after.run_id}/debug`),
      404,
      'runs',
      'run_debug_not_found',
    );
    await sleep(5);
    const dry = await k.runs.debug.prune({ older_than_ms: 1, dry_run: true });
    assert.deepEqual(dry.candidate_run_ids, [slow.run_id]);
    const real = await k.runs.debug.prune({ older_than_ms: 1 });
    assert.deepEqual(real.pruned_debug_run_ids, [slow.run_id]);
  } finally {
    await d.stop();
    await d.cleanup();
  }
});

test('a full store makes room by removing the oldest bundles of ended runs', async () => {
  const d = await startDaemon({
    script: { default: { turns: [{ text: 'ok' }] } },
    env: {
      KHEISH_DEBUG_MAX_ARTIFACT_BYTES: '2000',
      KHEISH_DEBUG_MAX_STORE_BYTES: '6000',
      KHEISH_DEBUG_TTL_MS: '0',
    },
  });
  try {
    assert.equal((await http(d.url, 'POST', '/v1/runtime/debug-level', { level: 'full' })).status, 200);
    const a = await run(d, 'dbg-cap', 'first');
    const b = await run(d, 'dbg-cap', 'second');
    const sizeOf = async (id: string) =>
      (await http(d.url, 'GET', `/v1/runs/${id}/debug`)).body.artifacts.reduce(
        (n: number, x: { bytes: number }) => n + x.bytes,
        0,
      );
    const perRun = await sizeOf(a.run_id);
    assert.ok(perRun > 2000 && perRun * 2 <= 6000, `two bundles fit (${perRun} bytes each)`);
    const c = await run(d, 'dbg-cap', 'third');
    assertProblem(await http(d.url, 'GET', `/v1/runs/${a.run_id}/debug`), 404, 'runs', 'run_debug_not_found');
    assert.equal((await http(d.url, 'GET', `/v1/runs/${b.run_id}/debug`)).status, 200);
    // The newest run kept all of its evidence (sizes differ only by the digits of its timings).
    const cView = (await http(d.url, 'GET', `/v1/runs/${c.run_id}/debug`)).body;
    assert.equal(cView.artifacts.length, 2);
    assert.ok(Math.abs((await sizeOf(c.run_id)) - perRun) < 16);
    const status = await http(d.url, 'GET', '/v1/status');
    assert.equal(status.body.debug.evicted_bundles, 1);
    assert.ok(status.body.debug.bytes <= 6000);
  } finally {
    await d.stop();
    await d.cleanup();
  }
});
