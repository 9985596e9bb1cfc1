// What a step trace shows of tool arguments and outputs (src/engine/trace-redact.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ARG_STRING_MAX,
  cutString,
  isSecretKey,
  OUTPUT_PREVIEW_MAX,
  outputPreview,
  REDACTED,
  redactArguments,
} from '../../src/engine/trace-redact.ts';

test('credential keys are redacted whatever their value; counting keys are not', () => {
  for (const key of [
    'token',
    'access_token',
    'githubToken',
    'secret',
    'client_secret',
    'password',
    'db-password',
    'api_key',
    'apiKey',
    'API-KEY',
    'x-api-key',
    'Authorization',
    'private_key',
    'privateKey',
    'cookie',
    'credentials',
  ])
    assert.equal(isSecretKey(key), true, key);
  for (const key of ['max_tokens', 'tokens', 'path', 'content', 'author', 'keyword', 'secretary_name'])
    assert.equal(isSecretKey(key), false, key);

  const args = {
    url: 'https://example.test',
    headers: { Authorization: 'Bearer abc', accept: 'json' },
    api_key: 'k-123',
    nested: [{ password: 42 }],
    empty_token: '',
    max_tokens: 100,
  };
  assert.deepEqual(redactArguments(args), {
    url: 'https://example.test',
    headers: { Authorization: REDACTED, accept: 'json' },
    api_key: REDACTED,
    nested: [{ password: REDACTED }],
    empty_token: '',
    max_tokens: 100,
  });
});

test('a configured secret value is masked wherever it appears, in arguments and in output previews', () => {
  const secret = 'sk-live-0123456789';
  const args = { command: `curl -H "x: ${secret}" https://h`, list: [secret, 'plain'] };
  assert.deepEqual(redactArguments(args, [secret, 'abc']), {
    command: `curl -H "x: ${REDACTED}" https://h`,
    list: [REDACTED, 'plain'],
  });
  // Values shorter than six characters are not searched for (they would blank ordinary words).
  assert.deepEqual(redactArguments({ word: 'abc def' }, ['abc']), { word: 'abc def' });
  const out = outputPreview(`KEY=${secret}\n`, [secret]);
  assert.equal(out.output_preview, `KEY=${REDACTED}\n`);
  assert.equal(out.output_bytes, Buffer.byteLength(`KEY=${secret}\n`));
  assert.equal(out.output_truncated, false);
});

test('large strings are cut with their original size; long arrays and deep nesting are bounded', () => {
  const big = 'é'.repeat(300);
  const cut = redactArguments({ content: big }) as { content: string };
  assert.equal(cut.content, `${'é'.repeat(ARG_STRING_MAX)}…[cut: 600 bytes]`);
  assert.equal(cutString('short', 10), 'short');
  // A surrogate pair is never split.
  const emoji = `${'a'.repeat(9)}😀tail`;
  assert.equal(cutString(emoji, 10), `${'a'.repeat(9)}…[cut: ${Buffer.byteLength(emoji)} bytes]`);

  const list = redactArguments({ items: Array.from({ length: 25 }, (_, i) => i) }) as { items: unknown[] };
  assert.equal(list.items.length, 21);
  assert.equal(list.items.at(-1), '…[5 more items]');

  let deep: Record<string, unknown> = { leaf: 1 };
  for (let i = 0; i < 10; i++) deep = { d: deep };
  let shown = redactArguments(deep) as Record<string, unknown>;
  let depth = 0;
  while (typeof shown.d === 'object' && shown.d !== null) {
    shown = shown.d as Record<string, unknown>;
    depth++;
  }
  assert.equal(shown.d, '{…}');
  assert.equal(depth, 5);

  const long = 'y'.repeat(OUTPUT_PREVIEW_MAX + 50);
  const preview = outputPreview(long);
  assert.equal(preview.output_preview, 'y'.repeat(OUTPUT_PREVIEW_MAX));
  assert.equal(preview.output_bytes, OUTPUT_PREVIEW_MAX + 50);
  assert.equal(preview.output_truncated, true);
});
