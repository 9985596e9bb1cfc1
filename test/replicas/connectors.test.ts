// Two replicas on one PostgreSQL database share the connector registry and the ingress receipts
// (issue 16): a connector created through one replica ingests through the other; the same event
// posted through both at once becomes one run, both answers naming it; a delete through one is
// seen by the other. Always on PostgreSQL (its own schema), whatever KHEISH_TEST_STORE says.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { api } from '../crash/crash-kit.ts';
import type { TestDaemon } from '../helpers/daemon.ts';
import { type ReplicaPair, startReplicaPair } from '../helpers/replica-pair.ts';
import { queryState } from '../helpers/state-query.ts';

let pair: ReplicaPair;
let a: TestDaemon;
let b: TestDaemon;

before(async () => {
  pair = await startReplicaPair({ script: { default: { turns: [{ text: 'ok' }] } } });
  ({ a, b } = pair);
});

after(() => pair?.stop());

const ingest = (d: TestDaemon, body: unknown) => api(d.url, 'POST', '/v1/connectors/http/shared', body);

test('replicas: one connector registry and one receipt per event key across replicas', async () => {
  assert.equal((await api(a.url, 'POST', '/v1/sessions', { session_id: 'shared-inbox' })).status, 201);
  const put = await api(a.url, 'PUT', '/v1/runtime/connectors/http/shared', {
    allow_unauthenticated_ingress: true,
    fixed_session_id: 'shared-inbox',
    ingress_events_per_second: 10_000,
  });
  assert.equal(put.status, 200, put.text);
  const seen = await api(b.url, 'GET', '/v1/runtime/connectors/http/shared');
  assert.equal(seen.status, 200, seen.text);
  assert.deepEqual(seen.body, put.body);

  const keys = Array.from({ length: 30 }, (_, i) => `both-${i}`);
  const answers = await Promise.all(
    keys.flatMap((k) => [a, b].map((d) => ingest(d, { content: `event ${k}`, idempotency_key: k }))),
  );
  for (let i = 0; i < keys.length; i++) {
    const [x, y] = [answers[2 * i]!, answers[2 * i + 1]!];
    assert.ok([200, 202].includes(x.status) && [200, 202].includes(y.status), `${x.text} ${y.text}`);
    assert.equal(x.body.run_id, y.body.run_id, `key ${keys[i]} became one run`);
    assert.deepEqual([x.body.status, y.body.status].sort(), ['accepted', 'duplicate']);
  }
  const runs = await queryState<{ n: number }>(a, "SELECT COUNT(*) AS n FROM runs WHERE kind = 'input'");
  assert.equal(Number(runs[0]!.n), keys.length);

  const del = await api(b.url, 'DELETE', '/v1/runtime/connectors/http/shared');
  assert.equal(del.status, 200, del.text);
  const gone = await ingest(a, { content: 'late', idempotency_key: 'late' });
  assert.equal(gone.status, 404, gone.text);
});
