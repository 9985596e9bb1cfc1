import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DaemonError } from '../../src/errors/daemon-error.ts';
import { decodeCursor, encodeCursor, parsePage } from '../../src/http/pagination.ts';

test('pagination: legacy unless page=true or cursor; limit clamp and validation', () => {
  assert.deepEqual(parsePage({}), { paginated: false, limit: undefined, after: undefined });
  assert.equal(parsePage({ page: 'true' }).limit, 50);
  assert.equal(parsePage({ page: 'true', limit: '500' }).limit, 100);
  assert.equal(parsePage({ limit: '3' }).paginated, false);
  for (const limit of ['0', '-1', 'x', '1.5'])
    assert.throws(
      () => parsePage({ limit }),
      (e: DaemonError) => e.code === 'invalid_limit' && e.status === 400,
    );
});

test('pagination: cursors round-trip and garbage is refused', () => {
  assert.equal(decodeCursor(encodeCursor('session-9')), 'session-9');
  assert.equal(parsePage({ cursor: encodeCursor('k') }).paginated, true);
  for (const c of ['%%%', 'abc', '', 'eyJ4IjoxfQ'])
    assert.throws(
      () => decodeCursor(c),
      (e: DaemonError) => e.code === 'invalid_cursor' && e.domain === 'pagination',
    );
});
