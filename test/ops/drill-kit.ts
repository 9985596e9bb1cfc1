// What the two restore drills (SQLite and PostgreSQL) share: a CLI runner that ignores the test
// run's store settings, two master keys, the scripted model's approval/failure rules, and the
// secret slot and asset that must survive the backup.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { BIN, http } from '../helpers/daemon.ts';

const baseEnv = { ...process.env };
for (const name of [
  'KHEISH_STATE_ROOT',
  'KHEISH_DATABASE_URL',
  'KHEISH_AUTH_STORE_MASTER_KEY_FILE',
  'KHEISH_TEST_STORE',
])
  delete baseEnv[name];

/** Runs the CLI with the drill's own environment (no inherited state root, database or key file). */
export const cli = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(BIN, args, { encoding: 'utf8', env: { ...baseEnv, ...env }, timeout: 60_000 });

export const KEY = cli(['secrets', 'generate']).stdout.trim();
export const OTHER_KEY = cli(['secrets', 'generate']).stdout.trim();
export const keyEnv = { KHEISH_AUTH_STORE_MASTER_KEY: KEY };

/** A model script: `risky` asks to run bash (an approval), `boom` fails, plus `extra` rules. */
export const drillScript = (extra: unknown[] = []) => ({
  rules: [
    {
      match: 'risky',
      turns: [{ tool_calls: [{ name: 'bash', arguments: { command: 'echo hi' } }] }, { text: 'ran it' }],
    },
    { match: 'boom', turns: [{ error: { status: 400 } }] },
    ...extra,
  ],
  default: { turns: [{ text: 'ok' }] },
});

/** Stores the `drill.prod` secret slot holding `secret` and a small text asset; returns the asset id. */
export async function seedSlotAndAsset(url: string, secret: string): Promise<string> {
  const slot = {
    slot_id: 'drill.prod',
    provider: 'generic',
    mode: 'opaque_secret',
    state: { value: secret },
  };
  assert.equal((await http(url, 'POST', '/v1/runtime/secrets', slot)).status, 200);
  const asset = await http(url, 'POST', '/v1/assets', {
    file_name: 'note.txt',
    media_type: 'text/plain',
    content_base64: Buffer.from('a file the daemon keeps').toString('base64'),
  });
  assert.ok(asset.status < 300, asset.text);
  return asset.body.asset_id ?? asset.body.asset?.asset_id;
}
