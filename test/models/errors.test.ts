// Error classification shared by every provider driver.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { APICallError } from 'ai';
import { ModelCallError } from '../../src/models/driver.ts';
import { isRetryableStatus, parseRetryAfterMs, toModelCallError } from '../../src/models/drivers/errors.ts';

test('retryable statuses: 408, 409, 429 and 5xx; other 4xx are final', () => {
  for (const s of [408, 409, 429, 500, 502, 503, 529]) assert.equal(isRetryableStatus(s), true, String(s));
  for (const s of [400, 401, 403, 404, 413, 422]) assert.equal(isRetryableStatus(s), false, String(s));
});

test('parseRetryAfterMs reads retry-after-ms, seconds and HTTP dates; ignores garbage', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfterMs({ 'retry-after-ms': '1500.2' }, now), 1501);
  assert.equal(parseRetryAfterMs({ 'Retry-After': '2' }, now), 2000);
  assert.equal(parseRetryAfterMs({ 'retry-after': '0.5' }, now), 500);
  assert.equal(parseRetryAfterMs({ 'retry-after': 'Thu, 01 Jan 2026 00:00:07 GMT' }, now), 7000);
  assert.equal(parseRetryAfterMs({ 'retry-after': 'Wed, 31 Dec 2025 00:00:00 GMT' }, now), 0);
  assert.equal(parseRetryAfterMs({ 'retry-after-ms': 'soon', 'retry-after': '3' }, now), 3000);
  assert.equal(parseRetryAfterMs({ 'retry-after': 'later' }, now), null);
  assert.equal(parseRetryAfterMs({ 'retry-after': '-1' }, now), null);
  assert.equal(parseRetryAfterMs(new Headers({ 'retry-after': '4' }), now), 4000);
  assert.equal(parseRetryAfterMs(undefined, now), null);
});

const apiError = (statusCode: number | undefined, headers: Record<string, string> = {}) =>
  new APICallError({
    message: 'nope',
    url: 'http://x',
    requestBodyValues: {},
    statusCode,
    responseHeaders: headers,
  });

test('HTTP errors keep their status and Retry-After', () => {
  const e = toModelCallError(apiError(429, { 'retry-after': '1' }), 'p');
  assert.ok(e instanceof ModelCallError);
  assert.deepEqual([e.status, e.retryable, e.retryAfterMs], [429, true, 1000]);
  assert.match(e.message, /^p: /);
  assert.deepEqual(
    [toModelCallError(apiError(404), 'p').retryable, toModelCallError(apiError(502), 'p').retryable],
    [false, true],
  );
});

test('a request that never got a status (connection refused) is retryable', () => {
  const e = toModelCallError(apiError(undefined), 'p');
  assert.deepEqual([e.status, e.retryable], [null, true]);
});

test('network errors, even wrapped, are retryable', () => {
  const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
  assert.equal(toModelCallError(new TypeError('fetch failed', { cause: reset }), 'p').retryable, true);
  assert.equal(toModelCallError(new TypeError('terminated'), 'p').retryable, true);
});

test('in-stream provider errors: status wins, then the provider flag', () => {
  assert.deepEqual(
    (({ status, retryable }) => ({ status, retryable }))(
      toModelCallError({ message: 'Overloaded', type: 'overloaded_error' }, 'p'),
    ),
    { status: 529, retryable: true },
  );
  assert.equal(toModelCallError({ message: 'x', statusCode: 400, isRetryable: true }, 'p').retryable, false);
  assert.equal(toModelCallError({ message: 'x', isRetryable: false }, 'p').retryable, false);
});

test('programming and configuration errors are not retryable', () => {
  const e = toModelCallError(new Error('Unsupported functionality'), 'p');
  assert.deepEqual([e.status, e.retryable], [null, false]);
});

test('an existing ModelCallError passes through unchanged', () => {
  const original = new ModelCallError('x', { status: 500, retryable: true });
  assert.equal(toModelCallError(original, 'p'), original);
});
