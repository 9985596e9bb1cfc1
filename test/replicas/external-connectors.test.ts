// Two replicas on one PostgreSQL database and one child-process external connector (decision
// 323): exactly one replica runs the sidecar (the other stands by), and when that replica is
// SIGKILLed the other takes the child over after the ownership lease expires, kills the leftover
// process (same host, same launch marker), starts its own and delivers through it.
// Always on PostgreSQL (its own schema), whatever KHEISH_TEST_STORE says.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { BIN, http, type TestDaemon } from '../helpers/daemon.ts';
import { eventually, freePort, SIDECAR, SidecarClient } from '../helpers/external-sidecar.ts';
import { type ReplicaPair, startReplicaPair } from '../helpers/replica-pair.ts';

const TOKEN = `replica-${Math.random().toString(36).slice(2)}-shared`;
let pair: ReplicaPair;

before(async () => {
  // Inherited by both daemons: the secret store key, and the shared token the connector reads.
  process.env.KHEISH_AUTH_STORE_MASTER_KEY = spawnSync(BIN, ['secrets', 'generate'], {
    encoding: 'utf8',
  }).stdout.trim();
  process.env.EXT_REPLICA_SHARED = TOKEN;
  pair = await startReplicaPair();
});
after(async () => {
  await pair?.stop();
});

const childOf = async (d: TestDaemon) =>
  ((await http(d.url, 'GET', '/v1/runtime/external-connectors')).body.children as any[]).find(
    (c) => c.connector === 'shared-kid',
  );

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('replicas: one replica runs the sidecar child; after it dies the other takes the child over', async () => {
  const { a, b } = pair;
  const port = await freePort();
  const put = await http(a.url, 'PUT', '/v1/runtime/connectors/external/shared-kid', {
    mode: 'child_process',
    base_url: `http://127.0.0.1:${port}`,
    shared_token: { env: 'EXT_REPLICA_SHARED' },
    include_self_output: true,
    session_policy: { create_if_missing: true },
    child_process: { command: 'python3', args: [SIDECAR] },
  });
  assert.equal(put.status, 200, put.text);
  const first = await eventually(async () => {
    const c = await childOf(b);
    return c?.state === 'ready' ? c : undefined;
  }, 'the child ready (seen from the other replica)');
  // Give the other replica a reconcile round: it must stand by, not launch a second child.
  await new Promise((r) => setTimeout(r, 6_000));
  const [ca, cb] = [await childOf(a), await childOf(b)];
  assert.equal([ca.running_here, cb.running_here].filter(Boolean).length, 1, JSON.stringify([ca, cb]));
  assert.equal(ca.pid, first.pid, 'still the first child: nobody restarted it');
  const owner = ca.running_here ? a : b;
  const survivor = owner === a ? b : a;

  await owner.kill();
  const taken = await eventually(
    async () => {
      const c = await childOf(survivor);
      return c?.state === 'ready' && c.running_here && c.pid !== first.pid ? c : undefined;
    },
    'the survivor running its own child',
    45_000,
  );
  assert.notEqual(taken.owner_replica_id, first.owner_replica_id);
  await eventually(async () => !alive(first.pid), "the dead replica's child killed");

  const sidecar = new SidecarClient(`http://127.0.0.1:${port}`);
  const ev = await sidecar.emit({
    event_id: 'after-takeover',
    routing_key: 'r',
    content: 'hello',
    reply_route: 'rr',
  });
  assert.equal(ev.body.status, 'accepted', JSON.stringify(ev));
  await eventually(
    async () => (await sidecar.state()).committed.some((c) => c.reply_route === 'rr'),
    'delivered',
  );
});
