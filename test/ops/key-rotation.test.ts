// Key rotation (issue 20, ops-runtime §16.3): the auth-store master key re-seals every slot
// offline (the old key stops working, the new one reads every slot); the audit signing key rolls
// over with its old public key archived and a rollover record signed by the old key, and the
// chains verify across the change. Both refuse while a daemon holds the state root.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { startOpenAiCompatibleServer } from '../fixtures/providers/openai-compatible-server.ts';
import { BIN, http, startDaemon, type TestDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';
import { queryState, storeArgs } from './state-query.ts';

const baseEnv = { ...process.env };
for (const name of ['KHEISH_STATE_ROOT', 'KHEISH_DATABASE_URL', 'KHEISH_AUTH_STORE_MASTER_KEY_FILE'])
  delete baseEnv[name];
let d: TestDaemon;
/** On PostgreSQL (KHEISH_TEST_STORE=postgres), commands on a state root also name the database. */
const cli = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(
    BIN,
    [...args, ...(d && args.includes('--state-root') && !args.includes('public-key') ? storeArgs(d) : [])],
    {
      encoding: 'utf8',
      env: { ...baseEnv, ...env },
      timeout: 60_000,
    },
  );

const dir = tempDir('kheish-rotation-');
const K1 = cli(['secrets', 'generate']).stdout.trim();
const K2 = cli(['secrets', 'generate']).stdout.trim();
const newKeyFile = join(dir, 'new.key');
writeFileSync(newKeyFile, `${K2}\n`, { mode: 0o600 });

after(async () => {
  await d?.stop();
  d?.cleanup();
});

test('secrets rotate-master-key re-seals every slot: the new key reads them, the old one no longer starts the daemon', async () => {
  d = await startDaemon({ env: { KHEISH_AUTH_STORE_MASTER_KEY: K1 } });
  for (const id of ['one.prod', 'two.prod'])
    assert.equal(
      (
        await http(d.url, 'POST', '/v1/runtime/secrets', {
          slot_id: id,
          provider: 'generic',
          mode: 'opaque_secret',
          state: { value: `v-${id}` },
        })
      ).status,
      200,
    );
  const rotate = ['secrets', 'rotate-master-key', '--new-key-file', newKeyFile, '--state-root', d.stateRoot];
  const busy = cli(rotate, { KHEISH_AUTH_STORE_MASTER_KEY: K1 });
  assert.equal(busy.status, 6, busy.stderr);
  await d.stop();
  assert.equal(cli(rotate).status, 2, 'the current key is needed');
  const same = cli(
    ['secrets', 'rotate-master-key', '--new-key-file', newKeyFile, '--state-root', d.stateRoot],
    {
      KHEISH_AUTH_STORE_MASTER_KEY: K2,
    },
  );
  assert.equal(same.status, 2);
  const r = cli(['--output', 'json', ...rotate], { KHEISH_AUTH_STORE_MASTER_KEY: K1 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual([out.slots, out.verified], [2, 2]);
  assert.notEqual(out.from_key_id, out.to_key_id);
  const reveal = (key: string) =>
    cli(['secrets', 'get', 'two.prod', '--reveal', '--offline', '--state-root', d.stateRoot], {
      KHEISH_AUTH_STORE_MASTER_KEY: key,
    });
  assert.equal(reveal(K2).stdout.trim(), 'v-two.prod');
  assert.notEqual(reveal(K1).status, 0);
  const old = cli(['serve', '--state-root', d.stateRoot, '--bind', '127.0.0.1:0'], {
    KHEISH_AUTH_STORE_MASTER_KEY: K1,
  });
  assert.notEqual(old.status, 0);
  assert.match(old.stderr, /key/i);
});

test('audit rotate-key: the old key is archived and vouches for the new one; chains verify across the change', async () => {
  d = await d.restart({ env: { KHEISH_AUTH_STORE_MASTER_KEY: K2 } });
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'audited' });
  const first = (await http(d.url, 'POST', '/v1/sessions/audited/runs', { content: 'before' })).body;
  await waitForRun(d.url, first.run_id);
  const busy = cli(['audit', 'rotate-key', '--state-root', d.stateRoot]);
  assert.equal(busy.status, 6, busy.stderr);
  await d.stop();
  const oldId = JSON.parse(
    cli(['--output', 'json', 'audit', 'public-key', '--state-root', d.stateRoot]).stdout,
  ).key_id;
  const r = cli(['--output', 'json', 'audit', 'rotate-key', '--state-root', d.stateRoot]);
  assert.equal(r.status, 0, r.stderr);
  const rot = JSON.parse(r.stdout);
  assert.equal(rot.old_key_id, oldId);
  assert.notEqual(rot.new_key_id, oldId);
  d = await d.restart({ env: { KHEISH_AUTH_STORE_MASTER_KEY: K2 } });
  const status = (await http(d.url, 'GET', '/v1/status')).body;
  assert.equal(status.external_audit?.key_id, rot.new_key_id);
  const second = (await http(d.url, 'POST', '/v1/sessions/audited/runs', { content: 'after' })).body;
  await waitForRun(d.url, second.run_id);
  await d.stop();
  const [rollover] = await queryState<{ record: string }>(
    d,
    "SELECT record FROM external_actions WHERE run_id = 'daemon' ORDER BY seq DESC LIMIT 1",
  );
  const keysOf = async (run: string) =>
    (
      await queryState<{ record: string }>(d, 'SELECT record FROM external_actions WHERE run_id = ?', [run])
    ).map((x) => JSON.parse(x.record).key_id);
  const firstKeys = await keysOf(first.run_id);
  const secondKeys = await keysOf(second.run_id);
  const rec = JSON.parse(rollover.record);
  assert.deepEqual([rec.kind, rec.target, rec.key_id], ['audit_key_rotated', rot.new_key_id, oldId]);
  assert.ok(firstKeys.length > 0 && firstKeys.every((k) => k === oldId));
  assert.ok(secondKeys.length > 0 && secondKeys.every((k) => k === rot.new_key_id));
  const verify = cli(['audit', 'verify', '--state-root', d.stateRoot]);
  assert.equal(verify.status, 0, verify.stdout + verify.stderr);
  assert.match(verify.stderr, /\d archived key\(s\) in /);
  // Trusting only the new key shows where the boundary is.
  const onlyNew = join(d.stateRoot, 'audit-keys', `${rot.new_key_id.replace(':', '-')}.pub.pem`);
  const strict = cli(['audit', 'verify', '--state-root', d.stateRoot, '--public-key', onlyNew]);
  assert.equal(strict.status, 1);
  assert.match(strict.stdout, new RegExp(`signed with key ${oldId}`));
});

test('route API key: `secrets set` on the running daemon revokes the slot leases, and the next call sends the new key', async () => {
  const fixture = await startOpenAiCompatibleServer();
  const env = { KHEISH_AUTH_STORE_MASTER_KEY: K1 };
  const routesDir = tempDir('kheish-rotation-route-');
  const routes = join(routesDir, 'routes.toml');
  writeFileSync(
    routes,
    `version = 1\ndefault_route = "prov"\n\n[routes.prov]\ndriver = "openai_compatible"\ndefault_model = "llama-rot"\nbase_url = "${fixture.origin}"\nauth_ref = "prov.prod"\n`,
  );
  const setKey = (value: string, daemon: TestDaemon) =>
    spawnSync(
      BIN,
      ['--base-url', daemon.url, 'secrets', 'set', 'prov.prod', '--provider', 'generic', '--value', value],
      { encoding: 'utf8', env: { ...baseEnv, ...env }, timeout: 60_000 },
    );
  // First boot without the route (its slot does not exist yet), then with it: as an operator would.
  let r = await startDaemon({ env });
  assert.equal(setKey('key-before', r).status, 0);
  await r.stop();
  r = await r.restart({ args: ['--routes-file', routes] });
  try {
    await http(r.url, 'POST', '/v1/sessions', { session_id: 'rot' });
    fixture.enqueue({ kind: 'text', deltas: ['one'] });
    const first = (await http(r.url, 'POST', '/v1/sessions/rot/runs', { content: 'hi' })).body;
    assert.equal((await waitForRun(r.url, first.run_id)).status, 'completed');
    assert.equal(fixture.requests.at(-1)!.headers.authorization, 'Bearer key-before');
    const [leaseId] = (await http(r.url, 'GET', '/v1/runtime/auth/subjects/session%3Arot')).body
      .active_route_lease_ids;
    assert.ok(leaseId);
    const rotated = setKey('key-after', r);
    assert.equal(rotated.status, 0, rotated.stderr);
    const lease = (await http(r.url, 'GET', `/v1/runtime/auth/leases/${leaseId}`)).body;
    assert.deepEqual([lease.revoked, lease.active], [true, false]);
    fixture.enqueue({ kind: 'text', deltas: ['two'] });
    const second = (await http(r.url, 'POST', '/v1/sessions/rot/runs', { content: 'again' })).body;
    assert.equal((await waitForRun(r.url, second.run_id)).status, 'completed');
    assert.equal(fixture.requests.at(-1)!.headers.authorization, 'Bearer key-after');
  } finally {
    await r.stop();
    await r.cleanup();
    await fixture.close();
  }
});
