// External connectors in child_process mode: the daemon launches the Python sidecar
// (`python3 test/fixtures/external-sidecar.py`), waits for /health and /manifest to agree, hands it
// a credential grant it redeems for a slot's value, and supervises it: a sidecar that crashes is
// restarted (its grant revoked), one that hangs on /deliver times out and is retried, 429 is
// retried, and every answer reaches the sidecar exactly once. Runs on the store KHEISH_TEST_STORE picks.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { BIN, http, startDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { eventually, freePort, SIDECAR, SidecarClient } from '../helpers/external-sidecar.ts';

const KEY = spawnSync(BIN, ['secrets', 'generate'], { encoding: 'utf8' }).stdout.trim();
const SHARED = `shared-${Math.random().toString(36).slice(2)}-tok`;
const BOT_TOKEN = `bot-${Math.random().toString(36).slice(2)}-value`;
let d: TestDaemon;
let sidecar: SidecarClient;

const status = async () => {
  const res = await http(d.url, 'GET', '/v1/runtime/external-connectors');
  return (res.body.children as Array<Record<string, any>>).find((c) => c.connector === 'kid');
};

const deliveriesOf = async (runId: string) => {
  const res = await http(d.url, 'GET', `/v1/deliveries?run_id=${encodeURIComponent(runId)}`);
  return (Array.isArray(res.body) ? res.body : res.body.items) as Array<Record<string, any>>;
};

const readyInstance = () =>
  eventually(async () => {
    const s = await status();
    return s?.state === 'ready' ? (s.instance_id as string) : undefined;
  }, 'the child to be ready');

before(async () => {
  d = await startDaemon({
    script: { default: { turns: [{ text: 'answer from the agent' }] } },
    env: {
      KHEISH_AUTH_STORE_MASTER_KEY: KEY,
      KHEISH_DELIVERY_INITIAL_RETRY_MS: '100',
      KHEISH_DELIVERY_MAX_RETRY_MS: '300',
      KHEISH_EXTERNAL_CONNECTOR_DELIVER_TIMEOUT_MS: '1000',
      OPENAI_API_KEY: 'sk-daemon-provider-key',
    },
  });
  const slot = await http(d.url, 'POST', '/v1/runtime/secrets', {
    slot_id: 'connectors.external.kid.bot_token',
    provider: 'generic',
    mode: 'opaque_secret',
    state: { value: BOT_TOKEN },
  });
  assert.equal(slot.status, 200, slot.text);
  const port = await freePort();
  const put = await http(d.url, 'PUT', '/v1/runtime/connectors/external/kid', {
    mode: 'child_process',
    base_url: `http://127.0.0.1:${port}`,
    shared_token: { value: SHARED },
    include_self_output: true,
    session_policy: { create_if_missing: true },
    child_process: {
      command: 'python3',
      args: [SIDECAR],
      env: { SIDECAR_DELIVER_MODE: 'ok' },
      credential_slots: { BOT_TOKEN: 'connectors.external.kid.bot_token' },
    },
  });
  assert.equal(put.status, 200, put.text);
  sidecar = new SidecarClient(`http://127.0.0.1:${port}`);
  await readyInstance();
});

after(async () => {
  await d?.stop();
  const logs = d?.logs() ?? '';
  await d?.cleanup();
  assert.ok(!logs.includes(SHARED), 'shared token not in the daemon log');
  assert.ok(!logs.includes(BOT_TOKEN), 'slot values not in the daemon log');
});

test('a credential_slots connector fails closed on a missing or provider slot', async () => {
  const res = await http(d.url, 'PUT', '/v1/runtime/connectors/external/badslot', {
    mode: 'child_process',
    base_url: 'http://127.0.0.1:1',
    shared_token: { value: 'x-token' },
    child_process: { command: 'python3', args: [SIDECAR], credential_slots: { T: 'no.such.slot' } },
  });
  assert.equal(res.status, 400, res.text);
  const get = await http(d.url, 'GET', '/v1/runtime/connectors/external/badslot');
  assert.equal(get.status, 404);
});

test('the child is ready, got its grant (not the value) and redeemed it for the slot value', async () => {
  const s = await status();
  assert.equal(s!.state, 'ready');
  assert.ok(s!.pid > 0);
  const state = await eventually(async () => {
    const st = await sidecar.state();
    return st.credentials.BOT_TOKEN ? st : undefined;
  }, 'the credential fetch');
  const fetched = state.credentials.BOT_TOKEN!;
  assert.equal(fetched.status, 200, JSON.stringify(fetched));
  assert.equal(fetched.body.value, BOT_TOKEN);
  assert.match(fetched.body.lease_id, /^lease_/);
  assert.match(fetched.body.grant_id, /^grant_/);
  assert.ok(fetched.body.expires_at_ms > Date.now() - 60_000);
  // The daemon's provider key was not in the child's environment; the subject shows the lease.
  assert.deepEqual(state.inherited_secrets, []);
  const subject = await http(d.url, 'GET', '/v1/runtime/auth/subjects/connector:kid');
  assert.ok(subject.body.active_connector_lease_ids.length >= 1, subject.text);
  // Views show the env and credential key names, never values or slot names (§6.2).
  const view = (await http(d.url, 'GET', '/v1/runtime/connectors/external/kid')).body;
  assert.deepEqual(view.child_process.env_keys, ['SIDECAR_DELIVER_MODE']);
  assert.deepEqual(view.child_process.credential_env_keys, ['BOT_TOKEN']);
  assert.equal(view.allow_private_network, false);
  assert.equal(view.shared_token.configured, true);
  for (const hidden of [SHARED, BOT_TOKEN, 'connectors.external.kid.bot_token'])
    assert.ok(!JSON.stringify(view).includes(hidden), hidden);
  // A wrong token is refused.
  const bad = await http(d.url, 'GET', '/v1/connectors/external/kid/credentials/BOT_TOKEN', undefined, {
    authorization: 'Bearer not-the-grant',
  });
  assert.equal(bad.status, 401);
});

test('ops-runtime #26 (connector leases): a revoked slot refuses the grant; writing the slot again serves the new value', async () => {
  const slot = 'connectors.external.kid.bot_token';
  const revoke = await http(d.url, 'POST', `/v1/runtime/auth/slots/${slot}/revoke`);
  assert.equal(revoke.status, 200, revoke.text);
  assert.equal((await sidecar.refreshCredentials()).BOT_TOKEN!.status, 403);
  const rotated = `${BOT_TOKEN}-rotated`;
  const put = await http(d.url, 'POST', '/v1/runtime/secrets', {
    slot_id: slot,
    provider: 'generic',
    mode: 'opaque_secret',
    state: { value: rotated },
  });
  assert.equal(put.status, 200, put.text);
  // The same launch token, no restart: the rotated value.
  const again = (await sidecar.refreshCredentials()).BOT_TOKEN!;
  assert.equal(again.status, 200, JSON.stringify(again));
  assert.equal(again.body.value, rotated);
});

test('event → run → answer delivered to the child exactly once; a hang times out and is retried; 429 is retried', async () => {
  const instance = await readyInstance();
  const ev = await sidecar.emit({
    event_id: 'kid-1',
    thread: { path: ['c', 't1'] },
    content: 'hi',
    reply_route: 'rt-1',
  });
  assert.equal(ev.status, 200, JSON.stringify(ev));
  assert.equal(ev.body.status, 'accepted');
  await eventually(
    async () => (await sidecar.state()).committed.some((c) => c.reply_route === 'rt-1'),
    'delivery',
  );
  // An event from another instance id is refused (child-process ingress is checked against the manifest).
  const spoof = await http(
    d.url,
    'POST',
    '/v1/connectors/external/kid/events',
    {
      protocol_version: 2,
      instance_id: `${instance}-not`,
      event_id: 'kid-x',
      routing_key: 'x',
      content: 'x',
    },
    { authorization: `Bearer ${SHARED}` },
  );
  assert.equal(spoof.status, 409, spoof.text);

  await sidecar.setMode('hang');
  const ev2 = await sidecar.emit({
    event_id: 'kid-2',
    thread: { path: ['c', 't2'] },
    content: 'hi',
    reply_route: 'rt-2',
  });
  const run2 = ev2.body.run_id as string;
  await eventually(
    async () =>
      (await sidecar.state()).attempts.filter((a) => a.body.conversation?.run_id === run2).length >= 2,
    'a retry after the /deliver timeout',
  );
  await sidecar.setMode('429', '1');
  await eventually(
    async () =>
      (await sidecar.state()).attempts.some((a) => a.body.conversation?.run_id === run2 && a.mode === '429'),
    'a 429 attempt',
  );
  await sidecar.setMode('ok');
  await eventually(
    async () => (await deliveriesOf(run2))[0]?.status === 'delivered',
    'delivered after recovery',
    30_000,
  );
  const s = await sidecar.state();
  assert.equal(s.committed.filter((c) => c.reply_route === 'rt-2').length, 1);
});

test('a crashing sidecar is restarted; its old grant and leases are revoked; the answer still arrives once', async () => {
  const before = await status();
  const oldInstance = before!.instance_id as string;
  const grantLease = (await sidecar.state()).credentials.BOT_TOKEN!.body.lease_id as string;
  await sidecar.setMode('crash');
  const ev = await sidecar.emit({
    event_id: 'kid-3',
    thread: { path: ['c', 't3'] },
    content: 'hi',
    reply_route: 'rt-3',
  });
  assert.equal(ev.body.status, 'accepted', JSON.stringify(ev));
  const instance = await eventually(
    async () => {
      const s = await status();
      return s?.state === 'ready' && s.instance_id !== oldInstance ? (s.instance_id as string) : undefined;
    },
    'a new instance after the crash',
    30_000,
  );
  assert.ok(instance);
  const after = await status();
  assert.ok(after!.restarts >= 1, JSON.stringify(after));
  const lease = await http(d.url, 'GET', `/v1/runtime/auth/leases/${grantLease}`);
  assert.equal(lease.body.revoked, true, lease.text);
  // The new child starts in mode ok (its env), commits the retried delivery once.
  await eventually(
    async () => (await sidecar.state()).committed.some((c) => c.reply_route === 'rt-3'),
    'delivery to the new child',
    30_000,
  );
  const fresh = await eventually(
    async () => (await sidecar.state()).credentials.BOT_TOKEN,
    'the new child fetched its credential',
  );
  assert.equal(fresh.status, 200);
  assert.notEqual(fresh.body.grant_id, undefined);
});

test('a changed connector replaces its child at once, without recording an error', async () => {
  const before = await status();
  const put = await http(d.url, 'PUT', '/v1/runtime/connectors/external/kid', {
    child_process: {
      command: 'python3',
      args: [SIDECAR],
      env: { SIDECAR_DELIVER_MODE: 'ok', CHANGED: '1' },
      credential_slots: { BOT_TOKEN: 'connectors.external.kid.bot_token' },
    },
  });
  assert.equal(put.status, 200, put.text);
  const after = await eventually(async () => {
    const s = await status();
    return s?.state === 'ready' && s.instance_id !== before!.instance_id ? s : undefined;
  }, 'the replacement child');
  assert.equal(after.last_error, null);
  const view = (await http(d.url, 'GET', '/v1/runtime/connectors/external/kid')).body;
  assert.deepEqual(view.child_process.env_keys, ['CHANGED', 'SIDECAR_DELIVER_MODE']);
});

test('a child that cannot start is retried with backoff and shows why; deleting the connector stops it', async () => {
  const port = await freePort();
  const put = await http(d.url, 'PUT', '/v1/runtime/connectors/external/broken', {
    mode: 'child_process',
    base_url: `http://127.0.0.1:${port}`,
    allow_unauthenticated_ingress: true,
    child_process: { command: 'kheish-no-such-sidecar-binary', args: [] },
  });
  assert.equal(put.status, 200, put.text);
  const broken = async () =>
    ((await http(d.url, 'GET', '/v1/runtime/external-connectors')).body.children as any[]).find(
      (c) => c.connector === 'broken',
    );
  const failing = await eventually(async () => {
    const c = await broken();
    return c && c.restarts >= 2 ? c : undefined;
  }, 'two restarts of the broken child');
  assert.match(failing.last_error, /could not start: ENOENT/);
  assert.notEqual(failing.state, 'ready');
  const del = await http(d.url, 'DELETE', '/v1/runtime/connectors/external/broken');
  assert.equal(del.status, 200, del.text);
  await eventually(async () => (await broken()) === undefined, 'the child row gone');
});
