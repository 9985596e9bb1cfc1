// Two replicas on one PostgreSQL database share the delivery queue (api-collab §8): both workers
// claim from the same rows, so each delivery is attempted by one replica and sent once; outputs
// for one target arrive in the order they were queued, whichever replica ran the run or sends.
// Always on PostgreSQL (its own schema), whatever KHEISH_TEST_STORE says.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { api, waitFor, waitTerminal } from '../crash/crash-kit.ts';
import type { TestDaemon } from '../helpers/daemon.ts';
import { type ReplicaPair, startReplicaPair } from '../helpers/replica-pair.ts';
import { httpTarget, type ReplyReceiver, startReceiver } from '../helpers/reply-receiver.ts';

let pair: ReplicaPair;
let a: TestDaemon;
let b: TestDaemon;
let rx: ReplyReceiver;

before(async () => {
  rx = await startReceiver();
  pair = await startReplicaPair({ script: { default: { turns: [{ text: 'ok' }] } } });
  ({ a, b } = pair);
});
after(async () => {
  await pair?.stop();
  await rx?.close();
});

test('replicas: every delivery is sent once although both replicas work the queue; one target keeps its FIFO order', async () => {
  rx.always('/shared', { status: 200, delay_ms: 40 });
  const runs: string[] = [];
  const sessions: string[] = [];
  for (let i = 0; i < 8; i++) {
    const via = i % 2 === 0 ? a : b;
    const created = await api(via.url, 'POST', '/v1/sessions', {});
    assert.equal(created.status, 201, created.text);
    const sid = created.body.session_id as string;
    sessions.push(sid);
    // Every session answers to the shared target, and to one of its own.
    const set = await api(via.url, 'PUT', `/v1/sessions/${sid}/reply-targets`, [
      httpTarget(rx.at('/shared')),
      httpTarget(rx.at(`/own-${i}`)),
    ]);
    assert.equal(set.status, 200, set.text);
  }
  for (let round = 0; round < 3; round++)
    for (const [i, sid] of sessions.entries()) {
      const via = (i + round) % 2 === 0 ? a : b;
      const res = await api(via.url, 'POST', `/v1/sessions/${sid}/runs`, { content: `round ${round}` });
      assert.equal(res.status, 202, res.text);
      runs.push(res.body.run_id);
    }
  await waitTerminal(a.url, runs, 30_000);
  const all = await waitFor(
    'every delivery delivered',
    async () => {
      const res = await api(b.url, 'GET', '/v1/deliveries?page=true&limit=100');
      const items = res.body.items as any[];
      return items.length === runs.length * 2 && items.every((d) => d.status === 'delivered')
        ? items
        : undefined;
    },
    30_000,
  );
  // Once each: one arrival per Idempotency-Key, and the keys are exactly the deliveries.
  const perKey = new Map<string, number>();
  for (const r of rx.received) {
    const k = String(r.headers['idempotency-key']);
    perKey.set(k, (perKey.get(k) ?? 0) + 1);
  }
  assert.equal(perKey.size, all.length);
  for (const d of all)
    assert.equal(perKey.get(`kheish:${d.delivery_id}`), 1, `delivery ${d.delivery_id} sent once`);
  assert.ok(all.every((d) => d.attempts === 1));

  // FIFO per target: the shared target got its deliveries in queue order.
  const sharedDigest = all.find((d) =>
    rx.received.some(
      (r) => r.path === '/shared' && r.headers['idempotency-key'] === `kheish:${d.delivery_id}`,
    ),
  ).target_digest;
  const queued = all.filter((d) => d.target_digest === sharedDigest).map((d) => `kheish:${d.delivery_id}`);
  const arrived = rx.received
    .filter((r) => r.path === '/shared')
    .map((r) => String(r.headers['idempotency-key']));
  assert.deepEqual(arrived, queued);
});
