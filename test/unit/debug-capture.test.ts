// The pure parts of debug capture: what each level keeps of a value, the credential and personal
// data scrubbers, the UTF-8 cut, the artifact numbering, the key loader and the SSE splitting.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { callPosition } from '../../src/features/debug/capture.ts';
import { loadCaptureKey } from '../../src/features/debug/config.ts';
import { utf8Prefix } from '../../src/features/debug/debug-store.ts';
import { CONFIG_ERROR_MARKER, renderValue } from '../../src/features/debug/render.ts';
import { WireLog } from '../../src/features/debug/wire-log.ts';
import type { JournalEntry } from '../../src/store/repos/journal.ts';

const value = {
  role: 'user',
  content:
    'key sk-proj-abcdefghijklmnop and my-daemon-secret-1, mail a.b@example.com, card 4111 1111 1111 1111',
  headers: {
    authorization: 'Bearer abcdefghijklmnop',
    'x-goog-api-key': 'g-key',
    'anthropic-version': '2023-06-01',
  },
  url: 'https://p.example/v1?key=AIzaSyD-secret-value&alt=sse',
  usage: { input_tokens: 12, output_tokens: 7 },
  max_tokens: 100,
  note: 'tenant canary: canary-42; JWT eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijklmnop',
  schema: { password: { type: 'string', description: 'the password' } },
};
const ctx = (level: 'on' | 'redacted' | 'full', tokens: string[] | null = ['canary-42']) => ({
  level,
  secrets: ['my-daemon-secret-1'],
  tokens,
});

test('full: content kept, credentials removed whatever their shape', () => {
  const out = renderValue(value, ctx('full')) as typeof value;
  assert.equal(out.content, 'key [redacted] and [redacted], mail a.b@example.com, card 4111 1111 1111 1111');
  assert.equal(out.headers.authorization, '[redacted]');
  assert.equal(out.headers['x-goog-api-key'], '[redacted]');
  assert.equal(out.headers['anthropic-version'], '2023-06-01');
  assert.equal(out.url, 'https://p.example/v1?key=[redacted]&alt=sse');
  assert.deepEqual(out.usage, value.usage);
  assert.equal(out.max_tokens, 100);
  assert.equal(out.note, 'tenant canary: [redacted]; JWT [redacted]');
  // A schema property named like a credential is structure, not a credential.
  assert.deepEqual(out.schema, { password: { type: 'string', description: 'the password' } });
});

test('redacted: personal data masked as well', () => {
  const out = renderValue(value, ctx('redacted')) as typeof value;
  assert.equal(out.content, 'key [redacted] and [redacted], mail [redacted:email], card [redacted:card]');
  const media = renderValue({ image: `data:image/png;base64,${'A'.repeat(40)}` }, ctx('redacted')) as {
    image: string;
  };
  assert.match(media.image, /^\[redacted:image\/png base64 chars=40 sha256=[0-9a-f]{16}\]$/);
  // A number that fails the Luhn check is not a card.
  assert.equal(
    renderValue('order 4111 1111 1111 1112', ctx('redacted')) as string,
    'order 4111 1111 1111 1112',
  );
});

test('on: names and numbers only; other text becomes its size and digest', () => {
  const out = renderValue(value, ctx('on')) as typeof value;
  assert.equal(out.role, 'user');
  assert.match(out.content, /^\[text chars=\d+ sha256=[0-9a-f]{16}\]$/);
  assert.equal(out.headers.authorization, '[redacted]');
  assert.equal(out.url, 'https://p.example/v1?key=[redacted]&alt=sse');
  assert.deepEqual(out.usage, value.usage);
  assert.ok(!JSON.stringify(out).includes('example.com'));
  // Tool call arguments are content, whatever their keys are called.
  const call = renderValue(
    { tool_calls: [{ id: 'c1', name: 'fetch', arguments: { url: 'https://intranet/x', name: 'Jane' } }] },
    ctx('on'),
  ) as { tool_calls: Array<{ id: string; name: string; arguments: Record<string, string> }> };
  assert.equal(call.tool_calls[0]!.name, 'fetch');
  assert.match(call.tool_calls[0]!.arguments.url!, /^\[text chars=/);
  assert.match(call.tool_calls[0]!.arguments.name!, /^\[text chars=/);
});

test('an unreadable token file fails text closed', () => {
  const out = renderValue({ role: 'user', content: 'anything' }, ctx('full', null)) as Record<string, string>;
  assert.equal(out.content, CONFIG_ERROR_MARKER);
});

test('utf8Prefix never cuts a character in half', () => {
  assert.equal(utf8Prefix('héllo', 2), 'h');
  assert.equal(utf8Prefix('héllo', 3), 'hé');
  assert.equal(utf8Prefix('€€', 4), '€');
  assert.equal(utf8Prefix('abc', 10), 'abc');
});

test('turn and attempt come from the journal: answers count turns, failures since the last answer count attempts', () => {
  const e = (kind: string) => ({ kind }) as JournalEntry;
  assert.deepEqual(callPosition([]), { turn: 1, attempt: 1 });
  assert.deepEqual(callPosition([e('model_call_failed')]), { turn: 1, attempt: 2 });
  assert.deepEqual(
    callPosition([e('model_call_failed'), e('assistant_message'), e('tool_result'), e('model_call_failed')]),
    { turn: 2, attempt: 2 },
  );
});

test('capture keys: base64 or hex of 32 bytes; anything else is invalid without echoing it', () => {
  const raw = randomBytes(32);
  const b64 = loadCaptureKey({ KHEISH_DEBUG_CAPTURE_KEY: raw.toString('base64') });
  const hex = loadCaptureKey({ KHEISH_DEBUG_CAPTURE_KEY: raw.toString('hex') });
  assert.equal(b64.state, 'ok');
  assert.equal(hex.state, 'ok');
  assert.equal(b64.state === 'ok' && hex.state === 'ok' && b64.key.keyId === hex.key.keyId, true);
  assert.deepEqual(loadCaptureKey({}), { state: 'none' });
  const bad = loadCaptureKey({ KHEISH_DEBUG_CAPTURE_KEY: 'hunter2-not-a-key' });
  assert.equal(bad.state, 'invalid');
  assert.ok(bad.state === 'invalid' && !bad.error.includes('hunter2'));
  const both = loadCaptureKey({
    KHEISH_DEBUG_CAPTURE_KEY: raw.toString('hex'),
    KHEISH_DEBUG_CAPTURE_KEY_FILE: '/x',
  });
  assert.equal(both.state, 'invalid');
});

test('provider events: server-sent events become one JSON line each; a body past the limit is cut and counted', () => {
  const requests: unknown[] = [];
  const log = new WireLog(16, (r) => requests.push(r));
  const ex = log.request({ method: 'POST', url: 'http://x/v1', headers: {}, body: '{"a":1}' });
  ex.response({ status: 200, headers: { 'content-type': 'text/event-stream' } });
  ex.chunk(Buffer.from('event: delta\ndata: {"t":"hi"}\n\ndata: [DONE]\n\n'));
  assert.deepEqual(requests, [{ method: 'POST', url: 'http://x/v1', headers: {}, body: { a: 1 } }]);
  const [events] = log.finish();
  assert.equal(events!.originalBytes, 45);
  assert.deepEqual(events!.lines[0], {
    type: 'response',
    status: 200,
    headers: { 'content-type': 'text/event-stream' },
  });
  assert.deepEqual(events!.lines.at(-1), { type: 'cut', kept_bytes: 32, body_bytes: 45 });

  const whole = new WireLog(1024, () => undefined);
  const ok = whole.request({ method: 'POST', url: 'http://x', headers: {}, body: null });
  ok.response({ status: 200, headers: { 'content-type': 'text/event-stream' } });
  ok.chunk(Buffer.from('event: delta\ndata: {"t":"hi"}\n\ndata: [DONE]\n\n'));
  assert.deepEqual(whole.finish()[0]!.lines.slice(1), [
    { type: 'event', event: 'delta', data: { t: 'hi' } },
    { type: 'event', data: '[DONE]' },
  ]);
});
