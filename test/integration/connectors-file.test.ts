// The --connectors-config file (api-collab §6.9): a connector the API would refuse stops `serve`
// (exit 2, the file and the connector named), as do unknown tables and duplicate names;
// KHEISH_CONNECTORS_CONFIG names the file too; of a secret's three spellings the slot wins, then
// the environment, then the inline value.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseConnectorsToml } from '../../src/config/connectors-file.ts';
import { BIN, http, startDaemon, tempDir } from '../helpers/daemon.ts';

function serveWith(toml: string): { status: number | null; stderr: string } {
  const dir = tempDir('kheish-connectors-file-');
  writeFileSync(join(dir, 'c.toml'), toml);
  const r = spawnSync(
    BIN,
    [
      'serve',
      '--bind',
      '127.0.0.1:0',
      '--state-root',
      join(dir, 'state'),
      '--connectors-config',
      join(dir, 'c.toml'),
    ],
    { encoding: 'utf8', timeout: 30_000, env: { ...process.env, KHEISH_DATABASE_URL: '' } },
  );
  return { status: r.status, stderr: r.stderr };
}

test('connectors file: an invalid connector, an unknown table or a duplicate name stops serve with exit 2', () => {
  const noAuth = serveWith('[[http_connectors]]\nname = "open"\n');
  assert.equal(noAuth.status, 2, noAuth.stderr);
  assert.match(noAuth.stderr, /c\.toml: connector http\/open is not valid: .*bearer_token/);
  const age = serveWith(
    '[[http_connectors]]\nname = "old"\nbearer_token = "t"\nsignature_max_age_secs = 0\n',
  );
  assert.equal(age.status, 2, age.stderr);
  assert.match(age.stderr, /signature_max_age_secs/);
  const table = serveWith('[[fax_connectors]]\nname = "x"\n');
  assert.equal(table.status, 2, table.stderr);
  assert.match(table.stderr, /unknown table \[\[fax_connectors\]\]/);
  const twice = serveWith(
    '[[http_connectors]]\nname = "a"\nbearer_token = "t"\n[[http_connectors]]\nname = "a"\nbearer_token = "u"\n',
  );
  assert.equal(twice.status, 2, twice.stderr);
  assert.match(twice.stderr, /defined twice/);
});

test('connectors file: the three spellings of a secret field, and slot > env > inline at resolution', async () => {
  const parsed = parseConnectorsToml(
    '[[http_connectors]]\nname = "p"\nbearer_token = "inline"\nbearer_token_env = "P_TOKEN"\nbearer_token_secret_ref = "p.slot"\nactor_id = "a"\n',
  );
  assert.deepEqual(parsed, [
    {
      kind: 'http',
      name: 'p',
      settings: { actor_id: 'a' },
      secrets: { bearer_token: { inline: 'inline', env: 'P_TOKEN', secret_ref: 'p.slot' } },
    },
  ]);

  const dir = tempDir('kheish-connectors-prec-');
  const file = join(dir, 'c.toml');
  writeFileSync(
    file,
    '[[http_connectors]]\nname = "both"\nbearer_token = "inline-token"\nbearer_token_env = "BOTH_TOKEN"\nfixed_session_id = "prec"\n[http_connectors.session_policy]\ncreate_if_missing = true\n',
  );
  const post = (url: string, token: string, key: string) =>
    http(
      url,
      'POST',
      '/v1/connectors/http/both',
      { content: 'x', idempotency_key: key },
      {
        authorization: `Bearer ${token}`,
      },
    );
  // The environment variable is set: it wins over the inline value.
  const withEnv = await startDaemon({ env: { KHEISH_CONNECTORS_CONFIG: file, BOTH_TOKEN: 'env-token' } });
  try {
    assert.equal((await post(withEnv.url, 'env-token', 'k1')).status, 202);
    assert.equal((await post(withEnv.url, 'inline-token', 'k2')).status, 401);
    const view = (await http(withEnv.url, 'GET', '/v1/runtime/connectors/http/both')).body;
    assert.equal(view.source, 'file');
    assert.deepEqual(view.bearer_token, {
      configured: true,
      source: 'env',
      secret_ref: null,
      env: 'BOTH_TOKEN',
    });
  } finally {
    await withEnv.kill();
    await withEnv.cleanup();
  }
  // Unset: the inline value applies.
  const inline = await startDaemon({ env: { KHEISH_CONNECTORS_CONFIG: file, BOTH_TOKEN: '' } });
  try {
    assert.equal((await post(inline.url, 'inline-token', 'k3')).status, 202);
    assert.equal((await post(inline.url, 'env-token', 'k4')).status, 401);
  } finally {
    await inline.kill();
    await inline.cleanup();
  }
});
