// `up`'s master key (ops-runtime §2.5 step 1, docs/decisions.md #620): a configured key is honoured
// and nothing is written; otherwise one key file, 0600, created once and reused.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ensureUpMasterKey, UP_KEY_FILE } from '../../src/cli/up.ts';
import { loadMasterKey } from '../../src/secrets/master-key.ts';
import { tempDir } from '../helpers/daemon.ts';

test('up master key: created once with mode 0600, then reused and narrowed back', () => {
  const root = join(tempDir('kheish-upkey-'), 'state');
  const env: NodeJS.ProcessEnv = {};
  assert.equal(ensureUpMasterKey(root, env).source, 'created');
  const file = join(root, UP_KEY_FILE);
  assert.equal(env.KHEISH_AUTH_STORE_MASTER_KEY_FILE, file);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const first = readFileSync(file, 'utf8');
  assert.ok(loadMasterKey(env), 'the file holds a key the daemon accepts');
  chmodSync(file, 0o644);
  const again: NodeJS.ProcessEnv = {};
  assert.equal(ensureUpMasterKey(root, again).source, 'reused');
  assert.equal(readFileSync(file, 'utf8'), first);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  rmSync(join(root, '..'), { recursive: true, force: true });
});

test('up master key: a key from the environment or a file is honoured and nothing is written', () => {
  const root = join(tempDir('kheish-upkey-'), 'state');
  assert.equal(ensureUpMasterKey(root, { KHEISH_AUTH_STORE_MASTER_KEY: 'x'.repeat(43) + '=' }).source, 'env');
  const fileEnv: NodeJS.ProcessEnv = { KHEISH_AUTH_STORE_MASTER_KEY_FILE: '/run/secrets/key' };
  assert.deepEqual(ensureUpMasterKey(root, fileEnv), { source: 'file', path: '/run/secrets/key' });
  assert.equal(existsSync(join(root, UP_KEY_FILE)), false);
  rmSync(join(root, '..'), { recursive: true, force: true });
});
