// Two replicas on one PostgreSQL database share the asset store (issue 15): they share the
// database, not a disk, so an asset uploaded through one replica is readable, verified, through the
// other; identical uploads through both replicas at once make one asset; a delete through one is
// seen by the other. Always on PostgreSQL (its own schema), whatever KHEISH_TEST_STORE says.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { api } from '../crash/crash-kit.ts';
import type { TestDaemon } from '../helpers/daemon.ts';
import { type ReplicaPair, startReplicaPair } from '../helpers/replica-pair.ts';

let pair: ReplicaPair;
let a: TestDaemon;
let b: TestDaemon;

before(async () => {
  pair = await startReplicaPair();
  ({ a, b } = pair);
});

after(() => pair?.stop());

const upload = (d: TestDaemon, fileName: string, bytes: Buffer) =>
  api(d.url, 'POST', '/v1/assets', {
    file_name: fileName,
    media_type: 'text/plain',
    content_base64: bytes.toString('base64'),
  });

test('replicas: an asset uploaded through replica A is read, verified, through replica B', async () => {
  const bytes = Buffer.from('uploaded through replica A\n'.repeat(2000));
  const up = await upload(a, 'from-a.txt', bytes);
  assert.equal(up.status, 201, up.text);
  const view = await api(b.url, 'GET', `/v1/assets/${up.body.asset_id}`);
  assert.equal(view.status, 200, view.text);
  assert.deepEqual(view.body, up.body);
  const raw = await fetch(`${b.url}/v1/assets/${up.body.asset_id}/raw`);
  assert.equal(raw.status, 200);
  const got = Buffer.from(await raw.arrayBuffer());
  assert.equal(createHash('sha256').update(got).digest('hex'), up.body.sha256);
  assert.deepEqual(got, bytes);
  // Neither replica wrote a payload file: the bytes are in the shared database.
  for (const d of [a, b]) {
    assert.ok(!existsSync(join(d.stateRoot, 'blobs', 'assets')), `${d.stateRoot} has no payload files`);
    const status = await api(d.url, 'GET', '/v1/status');
    assert.equal(status.body.storage.asset_repair.unreadable_asset_count, 0);
  }
});

test('replicas: identical uploads through both replicas at once make one asset; a delete through one is seen by the other', async () => {
  const bytes = Buffer.from(`same bytes on both replicas ${Date.now()}`);
  const results = await Promise.all([
    ...Array.from({ length: 4 }, (_, i) => upload(a, `a-${i}.txt`, bytes)),
    ...Array.from({ length: 4 }, (_, i) => upload(b, `b-${i}.txt`, bytes)),
  ]);
  for (const r of results) assert.ok([200, 201].includes(r.status), r.text);
  const ids = new Set(results.map((r) => r.body.asset_id));
  assert.equal(ids.size, 1, 'one asset for one (media type, digest)');
  assert.equal(results.filter((r) => r.status === 201).length, 1, 'exactly one upload created it');
  const [id] = [...ids];
  const del = await api(b.url, 'DELETE', `/v1/assets/${id}`);
  assert.equal(del.status, 200, del.text);
  assert.equal(del.body.deleted, true);
  assert.equal((await api(a.url, 'GET', `/v1/assets/${id}`)).status, 404);
  assert.equal((await api(a.url, 'GET', `/v1/assets/${id}/raw`)).status, 404);
});
