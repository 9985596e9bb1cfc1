// `secrets set --offline --database-url`: a slot written straight into the PostgreSQL store of a
// replicated system (no daemon running) is there when a daemon starts on that database, and a
// routes file naming it no longer refuses the start over a missing slot.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BIN, http, startDaemon, tempDir } from '../helpers/daemon.ts';
import { freshSchema } from '../helpers/pg-schema.ts';

const cli = (args: string[], env: Record<string, string>) =>
  spawnSync(BIN, args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 });

test('secrets set --offline --database-url writes the slot into the shared database', async () => {
  const schema = await freshSchema();
  const dir = tempDir();
  try {
    const key = cli(['secrets', 'generate'], {}).stdout.trim();
    const env = { KHEISH_AUTH_STORE_MASTER_KEY: key };
    writeFileSync(join(dir, 'value'), 'sk-offline-0123456789abcdef');
    const set = cli(
      [
        'secrets',
        'set',
        'openai.prod',
        '--provider',
        'openai',
        '--value-file',
        join(dir, 'value'),
        '--offline',
      ],
      { ...env, KHEISH_STATE_ROOT: join(dir, 'cli-root'), KHEISH_DATABASE_URL: schema.url },
    );
    assert.equal(set.status, 0, set.stderr);
    assert.ok(!set.stdout.includes('0123456789abcdef'), 'the value is never printed');
    const routes = join(dir, 'routes.toml');
    writeFileSync(
      routes,
      'version = 1\ndefault_route = "gpt"\n\n[routes.gpt]\ndriver = "openai"\ndefault_model = "gpt-5.4"\nauth_ref = "openai.prod"\nbase_url = "http://127.0.0.1:9"\n',
    );
    const d = await startDaemon({ args: ['--routes-file', routes], databaseUrl: schema.url, env });
    try {
      const slots = await http(d.url, 'GET', '/v1/runtime/secrets');
      assert.equal(slots.status, 200, slots.text);
      assert.ok(JSON.stringify(slots.body).includes('openai.prod'), slots.text);
    } finally {
      await d.stop();
      await d.cleanup();
    }
  } finally {
    await schema.drop();
  }
});
