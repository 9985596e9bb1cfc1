import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { DaemonError } from '../../src/errors/daemon-error.ts';
import { MasterKey } from '../../src/secrets/crypto.ts';
import {
  SecretIntegrityError,
  SecretStoreStartupError,
  WrongMasterKeyError,
} from '../../src/secrets/errors.ts';
import { SecretStore } from '../../src/secrets/secret-store.ts';
import { Store } from '../../src/store/store.ts';

const SECRET = `sk-live-${randomBytes(12).toString('hex')}`;
const newKey = () => new MasterKey(randomBytes(32), 'test key');

const roots: string[] = [];
const open: Store[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

async function openStore(root?: string): Promise<{ root: string; store: Store }> {
  const dir = root ?? mkdtempSync(join(tmpdir(), 'kheish-secrets-'));
  if (!root) roots.push(dir);
  const store = await Store.open({ stateRoot: dir });
  open.push(store);
  return { root: dir, store };
}

async function reopen(root: string, store: Store): Promise<Store> {
  await store.close();
  open.splice(open.indexOf(store), 1);
  return (await openStore(root)).store;
}

const apiKeyRecord = (slot_id: string, api_key = SECRET) => ({
  slot_id,
  provider: 'openai',
  mode: 'api_key',
  state: { kind: 'api_key', api_key, organization: 'org_123' },
});

async function rejectsWith(promise: Promise<unknown>, status: number, code: string): Promise<DaemonError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof DaemonError, String(err));
    assert.equal(err.status, status);
    assert.equal(err.code, code);
    assert.equal(err.domain, 'runtime');
    assert.ok(!err.message.includes(SECRET));
    return err;
  }
  assert.fail(`expected ${status} ${code}`);
}

describe('secret store over the database', () => {
  test('no key and no slots: disabled, lists nothing, refuses writes with secret_store_unavailable', async () => {
    const { store } = await openStore();
    const secrets = await SecretStore.open(store, null);
    assert.equal(secrets.state, 'disabled');
    assert.deepEqual(await secrets.list(), []);
    const err = await rejectsWith(secrets.put(apiKeyRecord('openai.prod')), 409, 'secret_store_unavailable');
    assert.match(err.detail, /no master key is configured.*KHEISH_AUTH_STORE_MASTER_KEY/);
    assert.deepEqual(await secrets.list(), []);
  });

  test('put, list, status, getSecretValue, rotate, delete', async () => {
    const { store } = await openStore();
    const secrets = await SecretStore.open(store, newKey());
    assert.equal(secrets.state, 'ready');
    const status = await secrets.put(apiKeyRecord('openai.prod'));
    assert.deepEqual(Object.keys(status).sort(), [
      'details',
      'mode',
      'provider',
      'slot_id',
      'summary',
      'updated_at_ms',
    ]);
    assert.equal(status.provider, 'open_ai', 'the CLI spelling openai is stored as open_ai');
    assert.equal(status.summary, `api_key ••••${SECRET.slice(-4)}`);
    assert.equal(status.details.organization, 'org_123');
    assert.equal(status.details.encrypted, true);
    assert.ok(!JSON.stringify(status).includes(SECRET));

    await secrets.put({
      slot_id: 'mcp.linear.LINEAR_API_KEY',
      provider: 'generic',
      mode: 'opaque_secret',
      state: { value: 'short' },
    });
    const list = await secrets.list();
    assert.deepEqual(
      list.map((s) => s.slot_id),
      ['mcp.linear.LINEAR_API_KEY', 'openai.prod'],
    );
    assert.equal(list[0]!.summary, 'opaque_secret ••••', 'short values show no tail');
    assert.ok(!JSON.stringify(list).includes(SECRET));

    assert.equal(await secrets.getSecretValue('openai.prod'), SECRET);
    assert.equal(await secrets.getSecretValue('mcp.linear.LINEAR_API_KEY'), 'short');
    assert.deepEqual(await secrets.getSecretState('openai.prod'), {
      kind: 'api_key',
      api_key: SECRET,
      organization: 'org_123',
    });

    const created = status.details.created_at_ms;
    await new Promise((r) => setTimeout(r, 5));
    const rotated = await secrets.put(apiKeyRecord('openai.prod', `${SECRET}-v2`));
    assert.equal(await secrets.getSecretValue('openai.prod'), `${SECRET}-v2`);
    assert.equal(rotated.details.created_at_ms, created, 'rotation keeps the creation time');
    assert.ok(rotated.updated_at_ms > status.updated_at_ms);

    assert.equal(await secrets.delete('openai.prod'), true);
    assert.equal(await secrets.delete('openai.prod'), false);
    assert.equal(await secrets.status('openai.prod'), undefined);
    await rejectsWith(secrets.getSecretValue('openai.prod'), 404, 'secret_not_found');
  });

  test('the database files never hold the plaintext value', async () => {
    const { root, store } = await openStore();
    const secrets = await SecretStore.open(store, newKey());
    await secrets.put(apiKeyRecord('openai.prod'));
    await store.close();
    open.splice(open.indexOf(store), 1);
    for (const file of ['kheish.sqlite', 'kheish.sqlite-wal']) {
      const path = join(root, file);
      if (existsSync(path)) assert.ok(!readFileSync(path).includes(SECRET), `${file} holds the value`);
    }
  });

  test('record validation: ids, providers, modes and the secret each mode needs', async () => {
    const { store } = await openStore();
    const secrets = await SecretStore.open(store, newKey());
    const bad: Array<[unknown, RegExp]> = [
      [{ ...apiKeyRecord('has space') }, /slot_id/],
      [{ ...apiKeyRecord('') }, /slot_id/],
      [{ ...apiKeyRecord('a/b') }, /slot_id/],
      [{ ...apiKeyRecord('ok'), provider: 'azure' }, /provider/],
      [{ ...apiKeyRecord('ok'), mode: 'password' }, /mode/],
      [{ ...apiKeyRecord('ok'), extra: 1 }, /extra|Unrecognized/],
      [{ slot_id: 'ok', provider: 'openai', mode: 'api_key', state: { kind: 'api_key' } }, /state\.api_key/],
      [{ slot_id: 'ok', provider: 'generic', mode: 'opaque_secret', state: { value: '' } }, /state\.value/],
      [
        { slot_id: 'ok', provider: 'generic', mode: 'opaque_secret', state: { api_key: SECRET } },
        /state\.value/,
      ],
      [
        { slot_id: 'ok', provider: 'anthropic', mode: 'api_key', state: { kind: 'oauth', api_key: SECRET } },
        /kind/,
      ],
      [{ slot_id: 'ok', provider: 'generic', mode: 'oauth_account', state: { scopes: [] } }, /access_token/],
      [
        { slot_id: 'ok', provider: 'generic', mode: 'opaque_secret', state: { value: 'x'.repeat(70_000) } },
        /larger/,
      ],
    ];
    for (const [record, why] of bad) {
      const err = await rejectsWith(secrets.put(record), 400, 'invalid_secret_record');
      assert.match(err.detail, why);
    }
    await rejectsWith(secrets.status('a/b'), 400, 'invalid_secret_ref');
    assert.deepEqual(await secrets.list(), []);
  });

  test('wrong master key: open refuses with a clear typed error and changes nothing', async () => {
    const { root, store } = await openStore();
    const right = newKey();
    await (await SecretStore.open(store, right)).put(apiKeyRecord('openai.prod'));
    const before = await store.db.selectFrom('auth_slots').selectAll().execute();

    const store2 = await reopen(root, store);
    const wrong = newKey();
    await assert.rejects(SecretStore.open(store2, wrong), (err: unknown) => {
      assert.ok(err instanceof WrongMasterKeyError);
      assert.ok(err instanceof SecretStoreStartupError);
      assert.match(err.message, /master key does not match this state root/);
      assert.match(err.message, new RegExp(`key id ${right.keyId}`));
      assert.match(err.message, new RegExp(`holds key id ${wrong.keyId}`));
      assert.match(err.message, /1 secret slot/);
      assert.match(err.message, /nothing was read or overwritten/);
      return true;
    });
    assert.deepEqual(await store2.db.selectFrom('auth_slots').selectAll().execute(), before);

    const secrets = await SecretStore.open(store2, right);
    assert.equal(await secrets.getSecretValue('openai.prod'), SECRET);
  });

  test('a key change on a store that holds no secret is adopted with a warning', async () => {
    const { store } = await openStore();
    const first = await SecretStore.open(store, newKey());
    await first.put(apiKeyRecord('tmp'));
    await first.delete('tmp');
    const next = newKey();
    const secrets = await SecretStore.open(store, next);
    assert.equal(secrets.state, 'ready');
    assert.match(secrets.warnings.join('\n'), /master key changed .* new key is adopted/);
    await secrets.put(apiKeyRecord('openai.prod'));
    assert.equal((await SecretStore.open(store, next)).state, 'ready');
  });

  test('slots but no key: locked; metadata readable, values and writes refused', async () => {
    const { store } = await openStore();
    await (await SecretStore.open(store, newKey())).put(apiKeyRecord('openai.prod'));
    const secrets = await SecretStore.open(store, null);
    assert.equal(secrets.state, 'locked');
    assert.match(
      secrets.warnings.join('\n'),
      /1 secret slot\(s\) are stored but no KHEISH_AUTH_STORE_MASTER_KEY/,
    );
    assert.equal((await secrets.list()).length, 1);
    await rejectsWith(secrets.getSecretValue('openai.prod'), 409, 'secret_store_unavailable');
    await rejectsWith(secrets.put(apiKeyRecord('other')), 409, 'secret_store_unavailable');
  });

  test('a ciphertext edited in the database fails its integrity check', async () => {
    const { store } = await openStore();
    const secrets = await SecretStore.open(store, newKey());
    await secrets.put(apiKeyRecord('openai.prod'));
    const row = await store.db.selectFrom('auth_slots').selectAll().executeTakeFirstOrThrow();
    const parts = row.envelope.split('.');
    const body = Buffer.from(parts[2]!, 'base64url');
    body[3] = body[3]! ^ 0x80;
    parts[2] = body.toString('base64url');
    await store.db
      .updateTable('auth_slots')
      .set({ envelope: parts.join('.') })
      .execute();
    await assert.rejects(secrets.getSecretValue('openai.prod'), (err: unknown) => {
      assert.ok(err instanceof SecretIntegrityError);
      assert.match(err.message, /secret slot openai\.prod failed its integrity check/);
      return true;
    });
  });

  test('slot swap: envelopes exchanged between two slots in the database do not decrypt', async () => {
    const { store } = await openStore();
    const secrets = await SecretStore.open(store, newKey());
    await secrets.put(apiKeyRecord('openai.prod', `${SECRET}-openai`));
    await secrets.put({ ...apiKeyRecord('anthropic.prod', `${SECRET}-anthropic`), provider: 'anthropic' });
    const rows = await store.db.selectFrom('auth_slots').select(['slot_id', 'envelope']).execute();
    const env = Object.fromEntries(rows.map((r) => [r.slot_id, r.envelope]));
    await store.db
      .updateTable('auth_slots')
      .set({ envelope: env['anthropic.prod']! })
      .where('slot_id', '=', 'openai.prod')
      .execute();
    await store.db
      .updateTable('auth_slots')
      .set({ envelope: env['openai.prod']! })
      .where('slot_id', '=', 'anthropic.prod')
      .execute();
    await assert.rejects(secrets.getSecretValue('openai.prod'), SecretIntegrityError);
    await assert.rejects(secrets.getSecretValue('anthropic.prod'), SecretIntegrityError);
  });

  test('a tampered key-check record with a matching key id stops the start', async () => {
    const { store } = await openStore();
    const key = newKey();
    await (await SecretStore.open(store, key)).put(apiKeyRecord('openai.prod'));
    const check = await store.db.selectFrom('auth_key_check').selectAll().executeTakeFirstOrThrow();
    await store.db
      .updateTable('auth_key_check')
      .set({ envelope: check.envelope.replace(/\.(.)/, '.A$1') })
      .execute();
    await assert.rejects(SecretStore.open(store, key), (err: unknown) => {
      assert.ok(err instanceof SecretStoreStartupError);
      assert.match(err.message, /key-check record .* failed its integrity check/);
      return true;
    });
  });

  test('slots without a key-check record: the first slot decides whether the key is right', async () => {
    const { store } = await openStore();
    const key = newKey();
    await (await SecretStore.open(store, key)).put(apiKeyRecord('openai.prod'));
    await store.db.deleteFrom('auth_key_check').execute();
    await assert.rejects(SecretStore.open(store, newKey()), WrongMasterKeyError);
    const secrets = await SecretStore.open(store, key);
    assert.equal(await secrets.getSecretValue('openai.prod'), SECRET);
    assert.ok(await store.db.selectFrom('auth_key_check').selectAll().executeTakeFirst(), 'check rewritten');
  });
});
