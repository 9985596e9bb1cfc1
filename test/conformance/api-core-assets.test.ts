// Assets conformance (api-core §7; #80-#83 and the assets half of #11): content-addressed uploads
// with dedupe, exact raw bytes (admin-only), refusal before storage, integrity re-checks, the
// delete plan, blocked deletes, GC. Runs on SQLite and, with KHEISH_TEST_STORE=postgres, PostgreSQL.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { collectSse, http, startDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { queryState } from '../helpers/state-query.ts';
import { execState } from '../helpers/state-write.ts';
import { assertProblem, SCRIPT } from './support.ts';

const ADMIN = 'assets-admin-token-0123456789';
const READONLY = 'assets-readonly-token-0123456789';
const admin = { authorization: `Bearer ${ADMIN}` };
const readonly = { authorization: `Bearer ${READONLY}` };

let d: TestDaemon;
const base = () => d.url;

before(async () => {
  d = await startDaemon({
    script: SCRIPT,
    args: ['--http-admin-token', ADMIN, '--http-readonly-token', READONLY],
  });
});
after(async () => {
  await d?.stop();
  await d?.cleanup();
});

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

async function upload(fileName: string, content: string | Buffer, mediaType?: string) {
  return http(
    base(),
    'POST',
    '/v1/assets',
    { file_name: fileName, ...(mediaType ? { media_type: mediaType } : {}), content_base64: b64(content) },
    admin,
  );
}

async function assetCount(): Promise<number> {
  const res = await http(base(), 'GET', '/v1/assets?page=true', undefined, admin);
  assert.equal(res.status, 200, res.text);
  return res.body.pagination.total_count;
}

/** Where a payload is kept: its file on SQLite; PostgreSQL keeps it in asset_payloads. */
const payloadPath = (digest: string) => join(d.stateRoot, 'blobs', 'assets', digest.slice(0, 2), digest);

test('api-core #80: a text/plain upload returns asset_id, sha256, byte_length, media_type; identical bytes return the same asset', async () => {
  const bytes = Buffer.from('hello assets\n');
  const first = await upload('hello.txt', bytes, 'text/plain');
  assert.equal(first.status, 201, first.text);
  const v = first.body;
  assert.match(v.asset_id, /^asset-[0-9a-z]{26}$/);
  assert.equal(v.sha256, sha(bytes));
  assert.equal(v.byte_length, bytes.length);
  assert.equal(v.media_type, 'text/plain');
  assert.equal(v.file_name, 'hello.txt');
  assert.ok(Number.isInteger(v.created_at_ms));
  assert.equal(v.uri, `asset://${v.asset_id}`);
  assert.deepEqual(v.derivation_ids, []);

  const again = await upload('other-name.txt', bytes, 'text/plain; charset=utf-8');
  assert.equal(again.status, 200, 'an identical import finds the existing asset (200, not 201)');
  assert.equal(again.body.asset_id, v.asset_id);
  assert.equal(again.body.file_name, 'hello.txt', 'the first import names it');

  const got = await http(base(), 'GET', `/v1/assets/${v.asset_id}`, undefined, readonly);
  assert.equal(got.status, 200, got.text);
  assert.deepEqual(got.body, v);
  const listed = await http(base(), 'GET', `/v1/assets?query=${v.sha256.slice(0, 12)}`, undefined, readonly);
  assert.deepEqual(
    listed.body.map((a: any) => a.asset_id),
    [v.asset_id],
    'the query matches the digest',
  );
  const byName = await http(base(), 'GET', '/v1/assets?query=HELLO.TXT', undefined, admin);
  assert.deepEqual(
    byName.body.map((a: any) => a.asset_id),
    [v.asset_id],
    'case-insensitive file name match',
  );
  assert.deepEqual(Object.keys(listed.body[0]).sort(), [
    'asset_id',
    'byte_length',
    'created_at_ms',
    'file_name',
    'media_type',
    'sha256',
  ]);
});

test('api-core #81: GET /v1/assets/{id}/raw (admin) returns the exact bytes with the media type and an inline disposition', async () => {
  const bytes = Buffer.from('{"a":1,"b":[true,null]}');
  const up = await upload('résumé "v2".json', bytes, 'application/json');
  assert.equal(up.status, 201, up.text);
  const id = up.body.asset_id;
  const res = await fetch(`${base()}/v1/assets/${id}/raw`, { headers: admin });
  assert.equal(res.status, 200);
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);
  assert.equal(res.headers.get('content-type'), 'application/json');
  const cd = res.headers.get('content-disposition') ?? '';
  assert.ok(cd.startsWith('inline; filename='), cd);
  assert.equal(cd, `inline; filename="r_sum_ _v2_.json"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22v2%22.json`);
});

test('api-core #11 (assets): raw bytes are admin-only; the read-only token reads the views', async () => {
  const up = await upload('secret.txt', 'only admins read me');
  const id = up.body.asset_id;
  assertProblem(
    await http(base(), 'GET', `/v1/assets/${id}/raw`, undefined, readonly),
    403,
    'auth',
    'insufficient_access',
  );
  assert.equal((await http(base(), 'GET', `/v1/assets/${id}/raw`, undefined, admin)).status, 200);
  assert.equal((await http(base(), 'GET', `/v1/assets/${id}`, undefined, readonly)).status, 200);
  assert.equal((await http(base(), 'GET', `/v1/assets/${id}/references`, undefined, readonly)).status, 200);
  for (const [method, path, body] of [
    ['POST', '/v1/assets', { file_name: 'x.txt', content_base64: b64('x') }],
    ['DELETE', `/v1/assets/${id}?dry_run=true`, undefined],
    ['POST', '/v1/assets/gc', {}],
  ] as const)
    assertProblem(await http(base(), method, path, body, readonly), 403, 'auth', 'insufficient_access');
});

test('api-core #82: an unsupported media type or more than 12 MiB is refused (4xx) and stores nothing', async () => {
  const before = await assetCount();
  const exe = await upload('setup.exe', Buffer.from('MZ\x90\x00\x03'), 'application/x-msdownload');
  assertProblem(exe, 400, 'assets', 'unsupported_media_type');
  const big = Buffer.alloc(12 * 1024 * 1024 + 1, 0x61);
  const tooBig = await upload('big.txt', big, 'text/plain');
  assert.ok(tooBig.status >= 400 && tooBig.status < 500, tooBig.text.slice(0, 200));
  assertProblem(tooBig, 400, 'assets', 'asset_too_large');
  const exactly = await upload('max.txt', Buffer.alloc(12 * 1024 * 1024, 0x62), 'text/plain');
  assert.equal(exactly.status, 201, 'exactly 12 MiB is accepted (the JSON body is ~16 MiB)');
  assertProblem(
    await http(base(), 'POST', '/v1/assets', { file_name: 'x.txt', content_base64: 'not base64!' }, admin),
    400,
    'assets',
    'invalid_asset_request',
  );
  assertProblem(
    await http(base(), 'POST', '/v1/assets', { file_name: 'x.txt' }, admin),
    400,
    undefined,
    'bad_request',
  );
  assert.equal(await assetCount(), before + 1, 'only the 12 MiB upload was stored');
  // Nothing of the refused uploads reached the payload store either.
  const digests = (await queryState(d, 'select sha256 from assets')).map((r) => r.sha256);
  assert.ok(!digests.includes(sha(big)));
});

test('api-core #83: a dry-run delete changes nothing; a run-input reference blocks the delete (409); GC with {} deletes nothing', async () => {
  const up = await upload('input.md', '# referenced by a run\n', 'text/markdown');
  const id = up.body.asset_id;
  // What the runs feature writes when a run takes the asset as input (through AssetsPort.addReferences).
  await execState(
    d,
    `insert into asset_references (asset_id, domain, owner_id, role, hard, parent_id, detail_id, created_at_ms)
     values (?, 'runs', 'run-x1', 'input_attachment', 1, 'demo', null, ?)`,
    [id, Date.now()],
  );
  const refs = await http(base(), 'GET', `/v1/assets/${id}/references`, undefined, admin);
  assert.deepEqual(refs.body, {
    asset_id: id,
    hard_reference_count: 1,
    soft_reference_count: 0,
    references: [
      { domain: 'runs', owner_id: 'run-x1', role: 'input_attachment', hard: true, parent_id: 'demo' },
    ],
  });

  const plan = await http(base(), 'DELETE', `/v1/assets/${id}?dry_run=true`, undefined, admin);
  assert.equal(plan.status, 200, plan.text);
  assert.equal(plan.body.dry_run, true);
  assert.equal(plan.body.blocked, true);
  assert.equal(plan.body.deleted, false);
  assert.equal(plan.body.hard_reference_count, 1);
  assert.equal(plan.body.reclaimable_bytes, up.body.byte_length);
  assert.equal(plan.body.removable_files.length, 1);
  assert.equal((await http(base(), 'GET', `/v1/assets/${id}/raw`, undefined, admin)).status, 200);

  const blocked = await http(base(), 'DELETE', `/v1/assets/${id}`, undefined, admin);
  assertProblem(blocked, 409, 'assets', 'asset_delete_blocked');
  assert.equal((await http(base(), 'GET', `/v1/assets/${id}`, undefined, admin)).status, 200);

  const count = await assetCount();
  const gc = await http(base(), 'POST', '/v1/assets/gc', {}, admin);
  assert.equal(gc.status, 200, gc.text);
  assert.equal(gc.body.dry_run, true, 'dry_run defaults to true');
  assert.deepEqual(gc.body.deleted_asset_ids, []);
  assert.ok(gc.body.blocked.some((b: any) => b.asset_id === id && b.hard_reference_count === 1));
  assert.ok(!gc.body.candidate_asset_ids.includes(id));
  assert.equal(await assetCount(), count, 'GC with {} deleted nothing');
  const noBody = await http(base(), 'POST', '/v1/assets/gc', undefined, admin);
  assert.equal(noBody.status, 200, noBody.text);
  assert.equal(noBody.body.dry_run, true);
});

test('assets: unknown ids are 404 assets/asset_not_found on every asset route', async () => {
  for (const [method, path] of [
    ['GET', '/v1/assets/asset-nope'],
    ['GET', '/v1/assets/asset-nope/raw'],
    ['GET', '/v1/assets/asset-nope/references'],
    ['DELETE', '/v1/assets/asset-nope'],
    ['DELETE', '/v1/assets/asset-nope?dry_run=true'],
  ] as const)
    assertProblem(await http(base(), method, path, undefined, admin), 404, 'assets', 'asset_not_found', path);
});

test('assets: a byte changed in storage makes the raw read 409 assets/asset_integrity_mismatch', async () => {
  const bytes = Buffer.from('integrity matters');
  const up = await upload('tamper.txt', bytes);
  const digest = up.body.sha256;
  if (d.databaseUrl)
    await execState(d, `update asset_payloads set data = ? where sha256 = ?`, [
      Buffer.from('integrity mattars'),
      digest,
    ]);
  else {
    const p = payloadPath(digest);
    const onDisk = readFileSync(p);
    onDisk[0] ^= 0x01;
    writeFileSync(p, onDisk);
  }
  assertProblem(
    await http(base(), 'GET', `/v1/assets/${up.body.asset_id}/raw`, undefined, admin),
    409,
    'assets',
    'asset_integrity_mismatch',
  );
  // Re-importing the same bytes rewrites the payload under its digest, which repairs it.
  assert.equal((await upload('tamper.txt', bytes)).status, 200);
  assert.equal(
    (await http(base(), 'GET', `/v1/assets/${up.body.asset_id}/raw`, undefined, admin)).status,
    200,
  );
});

test('assets: delete removes the row and its bytes, tombstones the id, and keeps bytes another asset names', async () => {
  const bytes = Buffer.from('a,b\n1,2\n');
  const csv = await upload('t.csv', bytes, 'text/csv');
  const txt = await upload('t.txt', bytes, 'text/plain');
  assert.notEqual(csv.body.asset_id, txt.body.asset_id, 'the media type is part of the dedupe key');
  const plan = await http(base(), 'DELETE', `/v1/assets/${csv.body.asset_id}?dry_run=true`, undefined, admin);
  assert.equal(plan.body.reclaimable_bytes, 0, 'the bytes are shared with the text/plain asset');
  assert.equal(plan.body.shared_files.length, 1);
  const del = await http(base(), 'DELETE', `/v1/assets/${csv.body.asset_id}`, undefined, admin);
  assert.equal(del.status, 200, del.text);
  assert.equal(del.body.deleted, true);
  assertProblem(
    await http(base(), 'GET', `/v1/assets/${csv.body.asset_id}`, undefined, admin),
    404,
    'assets',
  );
  assert.equal(
    (await http(base(), 'GET', `/v1/assets/${txt.body.asset_id}/raw`, undefined, admin)).status,
    200,
  );
  const tomb = await queryState(d, 'select asset_id from asset_tombstones where asset_id = ?', [
    csv.body.asset_id,
  ]);
  assert.equal(tomb.length, 1);

  const again = await upload('t.csv', bytes, 'text/csv');
  assert.equal(again.status, 201);
  assert.notEqual(again.body.asset_id, csv.body.asset_id, 'a deleted id is never reused');

  const only = await upload('alone.txt', 'nobody else has these bytes');
  const gone = await http(base(), 'DELETE', `/v1/assets/${only.body.asset_id}`, undefined, admin);
  assert.equal(gone.body.reclaimable_bytes, only.body.byte_length);
  if (!d.databaseUrl) assert.throws(() => readFileSync(payloadPath(only.body.sha256)), /ENOENT/);
  else
    assert.deepEqual(
      await queryState(d, 'select sha256 from asset_payloads where sha256 = ?', [only.body.sha256]),
      [],
    );
});

test("assets: POST /v1/runs/prune with release_assets drops a finished run's references, then GC reclaims the asset", async () => {
  const up = await upload('held.txt', 'held by a finished run');
  const id = up.body.asset_id;
  assert.equal(
    (await http(base(), 'POST', '/v1/sessions', { session_id: 'prune-assets' }, admin)).status,
    201,
  );
  const sub = await http(base(), 'POST', '/v1/sessions/prune-assets/runs', { content: 'hello' }, admin);
  assert.equal(sub.status, 202, sub.text);
  const runId = sub.body.run_id;
  for (let i = 0; ; i++) {
    const run = await http(base(), 'GET', `/v1/runs/${runId}`, undefined, admin);
    if (run.body.status === 'completed') break;
    assert.ok(i < 400, `run did not complete: ${run.text}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  await execState(
    d,
    `insert into asset_references (asset_id, domain, owner_id, role, hard, parent_id, detail_id, created_at_ms)
     values (?, 'runs', ?, 'input_attachment', 1, 'prune-assets', null, ?)`,
    [id, runId, Date.now()],
  );
  await new Promise((r) => setTimeout(r, 5));
  const dry = await http(
    base(),
    'POST',
    '/v1/runs/prune',
    { older_than_ms: 1, dry_run: true, release_assets: true },
    admin,
  );
  assert.equal(dry.status, 200, dry.text);
  assert.deepEqual(dry.body.released_asset_run_ids, [runId]);
  assert.equal(dry.body.released_asset_reference_count, 1);
  assert.equal(
    (await http(base(), 'GET', `/v1/assets/${id}/references`, undefined, admin)).body.hard_reference_count,
    1,
  );
  const plain = await http(base(), 'POST', '/v1/runs/prune', { older_than_ms: 1 }, admin);
  assert.equal(plain.body.released_asset_run_ids, undefined, 'without release_assets nothing is released');

  const done = await http(
    base(),
    'POST',
    '/v1/runs/prune',
    { older_than_ms: 1, release_assets: true },
    admin,
  );
  assert.deepEqual(done.body.released_asset_run_ids, [runId]);
  assert.equal(
    (await http(base(), 'GET', `/v1/assets/${id}/references`, undefined, admin)).body.hard_reference_count,
    0,
  );
  const gc = await http(base(), 'POST', '/v1/assets/gc', { dry_run: false }, admin);
  assert.equal(gc.status, 200, gc.text);
  assert.ok(gc.body.deleted_asset_ids.includes(id));
  assert.ok(gc.body.reclaimed_bytes >= up.body.byte_length);
  assertProblem(
    await http(base(), 'GET', `/v1/assets/${id}`, undefined, admin),
    404,
    'assets',
    'asset_not_found',
  );
});

test('assets: an import that makes a new asset and a delete each append asset_updated (no file name) on the global stream', async () => {
  const up = await upload('evented.txt', 'bytes announced on the stream');
  const dup = await upload('evented-again.txt', 'bytes announced on the stream');
  assert.equal(dup.body.asset_id, up.body.asset_id, 'identical bytes: no new asset, no new event');
  const id = up.body.asset_id;
  assert.equal((await http(base(), 'DELETE', `/v1/assets/${id}`, undefined, admin)).status, 200);
  const { frames } = await collectSse(`${base()}/v1/events/stream?cursor=0`, {
    headers: admin,
    until: (f) =>
      f.some((x) => x.event === 'asset_updated' && x.data.asset_id === id && x.data.action === 'deleted'),
  });
  const mine = frames.filter((f) => f.event === 'asset_updated' && f.data.asset_id === id).map((f) => f.data);
  assert.deepEqual(
    mine.map((e) => e.action),
    ['created', 'deleted'],
  );
  assert.equal(mine[0].sha256, up.body.sha256);
  assert.equal(mine[0].byte_length, up.body.byte_length);
  assert.equal(mine[1].reclaimed_bytes, up.body.byte_length);
  for (const e of mine) assert.ok(!JSON.stringify(e).includes('evented'), 'no file name on the stream');
});
