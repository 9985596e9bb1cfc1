// ops-runtime §14: the container entrypoint's refusals, done by `serve` itself (src/config/
// startup-refusals.ts), so they are tested without Docker: each bad start exits 2 with one line
// that names the setting and the fix, before anything listens.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BIN, tempDir } from '../helpers/daemon.ts';

const KEY = Buffer.alloc(32, 7).toString('base64');

function refused(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(BIN, ['serve', '--bind', '127.0.0.1:0', ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, KHEISH_STATE_ROOT: '', KHEISH_WORKSPACE_ROOT: '', ...env },
  });
  assert.equal(r.status, 2, `expected exit 2, got ${r.status}: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /kheish-daemon ready|at .*\.ts:\d+/, 'no start, no stack trace');
  return r.stderr.trim();
}

test('ops-runtime §14: identical state and workspace roots are refused', () => {
  const dir = tempDir();
  const msg = refused(['--state-root', dir, '--workspace-root', dir]);
  assert.match(msg, /--state-root and --workspace-root are the same directory/);
  assert.ok(!existsSync(join(dir, 'kheish.sqlite')), 'nothing was opened');
});

test('ops-runtime §14: with --strict-paths, relative or missing roots are refused', () => {
  const dir = tempDir();
  assert.match(
    refused(['--strict-paths', '--state-root', 'state', '--workspace-root', join(dir, 'ws')]),
    /--strict-paths: --state-root "state" is relative/,
  );
  assert.match(
    refused(['--state-root', join(dir, 's')], { KHEISH_STRICT_PATHS: 'true', KHEISH_WORKSPACE_ROOT: 'ws' }),
    /--workspace-root "ws" is relative .*set KHEISH_WORKSPACE_ROOT to an absolute path/,
  );
  assert.match(refused(['--strict-paths', '--state-root', join(dir, 's')]), /--workspace-root is not set/);
});

test('ops-runtime §14: a non-loopback bind without bearer auth is refused (auth none is the explicit opt-in)', () => {
  const r = spawnSync(
    BIN,
    ['serve', '--state-root', tempDir(), '--bind', '0.0.0.0:0', '--http-auth-mode', 'bearer'],
    {
      encoding: 'utf8',
      timeout: 30_000,
    },
  );
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--http-auth-mode bearer needs --http-admin-token/);
});

test('ops-runtime §14: unreadable token and master-key files are refused', () => {
  const dir = tempDir();
  assert.match(
    refused(['--state-root', join(dir, 's'), '--http-admin-token-file', join(dir, 'nope')]),
    /--http-admin-token-file .*nope: it does not exist/,
  );
  assert.match(
    refused(['--state-root', join(dir, 's'), '--http-readonly-token-file', dir]),
    /--http-readonly-token-file .*: it is not a regular file/,
  );
  assert.match(
    refused(['--state-root', join(dir, 's')], {
      KHEISH_AUTH_STORE_MASTER_KEY_FILE: join(dir, 'missing.key'),
    }),
    /KHEISH_AUTH_STORE_MASTER_KEY_FILE .*missing\.key: it does not exist/,
  );
  if (process.getuid?.() !== 0) {
    const locked = join(dir, 'locked.key');
    writeFileSync(locked, `${KEY}\n`);
    chmodSync(locked, 0o000);
    assert.match(
      refused(['--state-root', join(dir, 's')], { KHEISH_AUTH_STORE_MASTER_KEY_FILE: locked }),
      /may not read it/,
    );
  }
});

test('ops-runtime §14: inline and file inputs for one setting are refused', () => {
  const dir = tempDir();
  const keyFile = join(dir, 'master.key');
  writeFileSync(keyFile, `${KEY}\n`, { mode: 0o600 });
  assert.match(
    refused(['--state-root', join(dir, 's')], {
      KHEISH_AUTH_STORE_MASTER_KEY: KEY,
      KHEISH_AUTH_STORE_MASTER_KEY_FILE: keyFile,
    }),
    /both KHEISH_AUTH_STORE_MASTER_KEY and KHEISH_AUTH_STORE_MASTER_KEY_FILE are set/,
  );
  const tokenFile = join(dir, 'admin');
  writeFileSync(tokenFile, 'tok\n', { mode: 0o600 });
  assert.match(
    refused([
      '--state-root',
      join(dir, 's'),
      '--http-admin-token',
      'x',
      '--http-admin-token-file',
      tokenFile,
    ]),
    /give either --http-admin-token or --http-admin-token-file, not both/,
  );
  assert.match(
    refused(['--state-root', join(dir, 's')], {
      KHEISH_DEBUG_CAPTURE_KEY: KEY,
      KHEISH_DEBUG_CAPTURE_KEY_FILE: keyFile,
    }),
    /both KHEISH_DEBUG_CAPTURE_KEY and KHEISH_DEBUG_CAPTURE_KEY_FILE are set/,
  );
});
