// The `external-connectors` CLI group against a real daemon and a remote_http Python sidecar:
// `send` and `send-batch` post with the shared token (and never the control-plane token: with
// --token set and no shared token the daemon refuses), `status` lists child-process sidecars.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { BIN, http, startDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { type RemoteSidecar, startRemoteSidecar } from '../helpers/external-sidecar.ts';

const KEY = spawnSync(BIN, ['secrets', 'generate'], { encoding: 'utf8' }).stdout.trim();
const SHARED = `cli-${Math.random().toString(36).slice(2)}-shared`;
let d: TestDaemon;
let sidecar: RemoteSidecar;

const cli = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(BIN, args, {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, KHEISH_DAEMON_URL: d.url, ...env },
  });

before(async () => {
  d = await startDaemon({ env: { KHEISH_AUTH_STORE_MASTER_KEY: KEY } });
  sidecar = await startRemoteSidecar({ daemonUrl: d.url, connector: 'cli-side', sharedToken: SHARED });
  const put = await http(d.url, 'PUT', '/v1/runtime/connectors/external/cli-side', {
    base_url: sidecar.url,
    allow_private_network: true,
    shared_token: { value: SHARED },
    session_policy: { create_if_missing: true },
  });
  assert.equal(put.status, 200, put.text);
});

after(async () => {
  await sidecar?.stop();
  await d?.stop();
  await d?.cleanup();
});

test('external-connectors send: one event with the shared token from the environment; a replay is a duplicate', async () => {
  const event = JSON.stringify({ event_id: 'cli-1', routing_key: 'cli', content: 'hello from the cli' });
  const first = cli(
    ['external-connectors', 'send', 'cli-side', '--shared-token-env', 'SIDE_TOKEN', '--event-json', event],
    {
      SIDE_TOKEN: SHARED,
    },
  );
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /^accepted cli-1: session external:cli-side:[0-9a-f]{16} run run-/);
  const again = cli([
    '--output',
    'json',
    'sidecars',
    'send',
    'cli-side',
    '--shared-token',
    SHARED,
    '--event-json',
    event,
  ]);
  assert.equal(again.status, 0, again.stderr);
  assert.equal(JSON.parse(again.stdout).status, 'duplicate');
  // The control-plane token is not a connector credential.
  const refused = cli(['external-connectors', 'send', 'cli-side', '--event-json', event], {
    KHEISH_TOKEN: 'admin',
  });
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /401|Bearer/);
});

test('external-connectors send-batch prints one row per event, in order; status lists no child here', async () => {
  const events = JSON.stringify([
    { event_id: 'cli-b1', routing_key: 'cli', content: 'one' },
    { event_id: 'cli-b2', routing_key: 'cli', content: 'two', input_items: [{ type: 'text', text: 'x' }] },
  ]);
  const r = cli([
    'external-connectors',
    'send-batch',
    'cli-side',
    '--shared-token',
    SHARED,
    '--events-json',
    events,
  ]);
  assert.equal(r.status, 0, r.stderr);
  const rows = r.stdout.trim().split('\n').slice(1);
  assert.match(rows[0]!, /^0\s+cli-b1\s+accepted/);
  assert.match(rows[1]!, /^1\s+cli-b2\s+rejected/);
  const s = cli(['external-connectors', 'status']);
  assert.equal(s.status, 0, s.stderr);
  assert.match(s.stdout, /no child-process sidecars/);
});
