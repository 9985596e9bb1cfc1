// Control-plane auth hygiene (ops-runtime §5.1): the failure counter behind 429 forgets idle
// clients and stays bounded under a flood from many addresses; identical admin and read-only
// tokens are refused at start-up (same value, same file through a link, two files with one
// token) and at run time (ops-runtime #16: a rotation that makes them equal refuses every token).
import assert from 'node:assert/strict';
import { renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mock, test } from 'node:test';
import type { FastifyRequest } from 'fastify';
import type { ServeConfig } from '../../src/config/serve-options.ts';
import { DaemonError } from '../../src/errors/daemon-error.ts';
import { AuthGuard, identicalTokens, MAX_TRACKED_FAILURES } from '../../src/http/auth.ts';
import { tempDir } from '../helpers/daemon.ts';

const quiet = { warn: () => undefined };
const request = (ip: string, token: string, method = 'GET', url = '/v1/sessions') =>
  ({
    ip,
    method,
    url,
    headers: { authorization: `Bearer ${token}` },
    log: quiet,
  }) as unknown as FastifyRequest;

function guard(admin: ServeConfig['adminToken'], readonly: ServeConfig['readonlyToken'] = null): AuthGuard {
  return new AuthGuard({ authMode: 'bearer', adminToken: admin, readonlyToken: readonly } as ServeConfig);
}

const refusal = (g: AuthGuard, req: FastifyRequest): DaemonError | null => {
  try {
    g.check(req);
    return null;
  } catch (err) {
    assert.ok(err instanceof DaemonError);
    return err;
  }
};

test('the auth-failure counter stays bounded with many distinct failing clients, and forgets idle ones', () => {
  mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  try {
    const g = guard({ kind: 'inline', value: 'admin-token' });
    const clients = MAX_TRACKED_FAILURES * 3;
    for (let i = 0; i < clients; i++) {
      const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      assert.equal(refusal(g, request(ip, 'wrong'))?.status, 401);
    }
    assert.equal(g.trackedFailureClients, MAX_TRACKED_FAILURES);
    // A client that keeps failing is still rate limited: its entry is the most recent.
    let last: DaemonError | null = null;
    for (let i = 0; i < 61; i++) last = refusal(g, request('192.0.2.7', 'wrong'));
    assert.equal(last?.status, 429);
    assert.equal(last?.code, 'rate_limited');
    // A window later every idle client is forgotten: only the new failure is remembered.
    mock.timers.tick(61_000);
    assert.equal(refusal(g, request('192.0.2.8', 'wrong'))?.status, 401);
    assert.equal(g.trackedFailureClients, 1);
    // And the one that was limited starts again from zero.
    assert.equal(refusal(g, request('192.0.2.7', 'wrong'))?.status, 401);
    assert.equal(refusal(g, request('192.0.2.7', 'admin-token')), null);
  } finally {
    mock.timers.reset();
  }
});

test('ops-runtime #16: identical tokens are detected at start-up by value, by path and through a link', () => {
  const dir = tempDir('kheish-auth-same-');
  const [a, b, link] = [join(dir, 'admin'), join(dir, 'reader'), join(dir, 'link')];
  writeFileSync(a, 'same-token\n');
  writeFileSync(b, 'same-token');
  symlinkSync(a, link);
  const file = (path: string) => ({ kind: 'file', path }) as const;
  const inline = (value: string) => ({ kind: 'inline', value }) as const;
  assert.ok(identicalTokens({ adminToken: inline('x1'), readonlyToken: inline('x1') }));
  assert.ok(identicalTokens({ adminToken: file(a), readonlyToken: file(a) }));
  assert.ok(identicalTokens({ adminToken: file(a), readonlyToken: file(link) }));
  assert.ok(identicalTokens({ adminToken: file(a), readonlyToken: file(b) }), 'two files, one token');
  assert.ok(identicalTokens({ adminToken: inline('same-token'), readonlyToken: file(b) }));
  assert.ok(!identicalTokens({ adminToken: inline('x1'), readonlyToken: inline('x2') }));
  assert.ok(!identicalTokens({ adminToken: inline('x1'), readonlyToken: null }));
});

test('ops-runtime #16: a read-only token file rotated to equal the admin one refuses both at run time, then recovers', () => {
  const dir = tempDir('kheish-auth-rotate-');
  const [admin, reader] = [join(dir, 'admin'), join(dir, 'reader')];
  writeFileSync(admin, 'admin-1\n');
  writeFileSync(reader, 'reader-1\n');
  const g = guard({ kind: 'file', path: admin }, { kind: 'file', path: reader });
  assert.equal(refusal(g, request('127.0.0.1', 'admin-1', 'POST')), null);
  assert.equal(refusal(g, request('127.0.0.1', 'reader-1')), null);
  // Rotated atomically (write + rename): the next request sees it, whatever the timestamps.
  writeFileSync(join(dir, 'next'), 'admin-1\n');
  renameSync(join(dir, 'next'), reader);
  assert.equal(refusal(g, request('127.0.0.1', 'admin-1', 'POST'))?.code, 'invalid_token');
  assert.equal(refusal(g, request('127.0.0.1', 'reader-1'))?.code, 'invalid_token');
  writeFileSync(join(dir, 'next'), 'reader-2\n');
  renameSync(join(dir, 'next'), reader);
  assert.equal(refusal(g, request('127.0.0.1', 'admin-1', 'POST')), null);
  assert.equal(refusal(g, request('127.0.0.1', 'reader-2')), null);
  assert.equal(refusal(g, request('127.0.0.1', 'reader-2', 'POST'))?.code, 'insufficient_access');
});
