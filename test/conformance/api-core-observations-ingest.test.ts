// Observation upload (api-core §8.3, #84): acceptance, idempotent replay, conflicting replays, the
// per-source rate limit, media checks, budgets and time retention, listing filters, on the store
// KHEISH_TEST_STORE picks.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { pngBase64, sourceBody, upload, uploadBody } from '../helpers/observations.ts';
import { assertProblem, sleep } from './support.ts';

let d: TestDaemon;
const get = (path: string) => http(d.url, 'GET', path);

before(async () => {
  d = await startDaemon({ env: { KHEISH_OBSERVATION_SWEEP_MS: '100' } });
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
});

test('api-core #84: a valid upload returns the observation; the same key and payload return it again; over the burst is 429 rate_limited', async () => {
  const token = 'screen-84-upload-token';
  const src = await http(
    d.url,
    'POST',
    '/v1/observation-sources',
    sourceBody('s84', token, { ingest_rate_limit_burst: 3, ingest_rate_limit_window_ms: 60_000 }),
  );
  assert.equal(src.status, 201, src.text);
  const body = uploadBody('s84:frame-1', 1, {
    stream_id: 'call-7',
    seq_no: 1,
    canonical_text: 'OCR text',
    metadata: { window: 'editor' },
  });
  const first = await upload(d.url, 's84', token, body);
  assert.equal(first.status, 201, first.text);
  const o = first.body;
  assert.match(o.observation_id, /^observation-[0-9a-z]{26}$/);
  assert.equal(o.source_id, 's84');
  assert.equal(o.kind, 'screen_snapshot');
  assert.equal(o.sensitivity, 'sensitive');
  assert.equal(o.retention_state, 'active');
  assert.equal(o.media_type, 'image/png');
  assert.match(o.sha256, /^[0-9a-f]{64}$/);
  assert.equal(o.byte_length, Buffer.from(body.upload.content_base64, 'base64').length);
  assert.equal(o.captured_at_ms, body.captured_at_ms);
  assert.ok(o.received_at_ms >= o.captured_at_ms);
  assert.equal(o.stream_id, 'call-7');
  assert.equal(o.seq_no, 1);
  assert.equal(o.idempotency_key, 's84:frame-1');
  assert.match(o.request_fingerprint, /^[0-9a-f]{64}$/);
  assert.deepEqual(o.metadata, { window: 'editor' });
  assert.ok(o.asset_id && o.canonical_text_asset_id);
  const asset = await get(`/v1/assets/${o.asset_id}`);
  assert.equal(asset.status, 200, asset.text);
  assert.equal(asset.body.sha256, o.sha256);
  const refs = await get(`/v1/assets/${o.asset_id}/references`);
  assert.ok(refs.text.includes(o.observation_id), `observation reference: ${refs.text}`);

  const replay = await upload(d.url, 's84', token, body);
  assert.equal(replay.status, 200, replay.text);
  assert.deepEqual(replay.body, o, 'the replay returns the same observation');
  const conflict = await upload(d.url, 's84', token, { ...body, seq_no: 2 });
  assertProblem(conflict, 409, 'observation_ingress', 'idempotency_conflict');

  for (const n of [2, 3])
    assert.equal((await upload(d.url, 's84', token, uploadBody(`s84:frame-${n}`, n))).status, 201);
  const limited = await upload(d.url, 's84', token, uploadBody('s84:frame-4', 4));
  assertProblem(limited, 429, 'observation_ingress', 'rate_limited');
  assert.ok(
    Number.isInteger(limited.body.retry_after_ms) &&
      limited.body.retry_after_ms > 0 &&
      limited.body.retry_after_ms <= 60_000,
  );
  assert.match(limited.body.detail, /retry_after_ms=\d+/);
  assert.ok(Number(limited.headers.get('retry-after')) >= 1);
  // A replay is not a new upload: still answered while the window is full.
  assert.equal((await upload(d.url, 's84', token, body)).status, 200);
  assert.equal(
    (await get('/v1/observations?source_id=s84')).body.length,
    3,
    'the refused upload stored nothing',
  );
  const events = (await get('/v1/observation-audit?source_id=s84')).body.map((r: any) => r.event);
  for (const e of ['upload_accepted', 'upload_deduplicated', 'upload_rejected', 'rate_limited'])
    assert.ok(events.includes(e), e);
  const audit = (await get('/v1/observation-audit?source_id=s84')).text;
  assert.ok(
    !audit.includes('s84:frame-1') &&
      !audit.includes(token) &&
      !audit.includes(body.upload.content_base64.slice(0, 40)),
  );
  assert.deepEqual((await get(`/v1/observations/${o.observation_id}`)).body, o);
  assertProblem(await get('/v1/observations/observation-nope'), 404, 'observations', 'observation_not_found');
});

test('api-core §8.3: media is checked against the kind; bodies are validated; oversize uploads are refused', async () => {
  const token = 'media-upload-token-0001';
  await http(d.url, 'POST', '/v1/observation-sources', sourceBody('media', token, { max_active_bytes: 400 }));
  assertProblem(
    await upload(d.url, 'media', token, {
      ...uploadBody('m1'),
      upload: { file_name: 'a.wav', media_type: 'audio/wav', content_base64: pngBase64() },
    }),
    400,
    'observation_ingress',
    'unsupported_media_type',
  );
  const lying = await upload(d.url, 'media', token, {
    ...uploadBody('m2'),
    upload: {
      file_name: 'a.png',
      media_type: 'image/png',
      content_base64: Buffer.from('not an image at all').toString('base64'),
    },
  });
  assertProblem(lying, 400, 'observation_ingress', 'invalid_upload');
  assertProblem(
    await upload(d.url, 'media', token, {
      ...uploadBody('m3'),
      upload: { file_name: 'a.png', media_type: 'image/png', content_base64: '!!!' },
    }),
    400,
    'observation_ingress',
    'invalid_upload',
  );
  assert.equal((await upload(d.url, 'media', token, uploadBody('m4', 4, { stream_id: 'a/b' }))).status, 400);
  const big = await upload(d.url, 'media', token, {
    ...uploadBody('m5'),
    upload: {
      file_name: 'big.png',
      media_type: 'image/png',
      content_base64: Buffer.alloc(600).toString('base64'),
    },
  });
  assertProblem(big, 413, 'observation_ingress', 'observation_too_large');
  assert.deepEqual((await get('/v1/observations?source_id=media')).body, []);
});

test('api-core §8.3: over-budget observations are purged oldest first; expired ones by the retention timer; filters and include_purged', async () => {
  const token = 'budget-upload-token-001';
  await http(
    d.url,
    'POST',
    '/v1/observation-sources',
    sourceBody('budget', token, { max_active_observations: 2, purge_raw_on_retention: true }),
  );
  const ids: string[] = [];
  for (const n of [10, 11, 12]) {
    const res = await upload(
      d.url,
      'budget',
      token,
      uploadBody(`b${n}`, n, { stream_id: n === 12 ? 'other' : 'main', seq_no: n }),
    );
    assert.equal(res.status, 201, res.text);
    ids.push(res.body.observation_id);
  }
  const active = (await get('/v1/observations?source_id=budget')).body;
  assert.deepEqual(
    active.map((o: any) => o.observation_id),
    ids.slice(1),
  );
  const all = (await get('/v1/observations?source_id=budget&include_purged=true')).body;
  assert.deepEqual(
    all.map((o: any) => [o.observation_id, o.retention_state]),
    [
      [ids[0], 'purged'],
      [ids[1], 'active'],
      [ids[2], 'active'],
    ],
  );
  assert.deepEqual(
    (await get('/v1/observations?source_id=budget&stream_id=other')).body.map((o: any) => o.observation_id),
    [ids[2]],
  );
  const purged = (await get(`/v1/observations/${ids[0]}`)).body;
  const refs = (await get(`/v1/assets/${purged.asset_id}/references`)).body;
  assert.ok(JSON.stringify(refs).includes('"hard":false'), `purged lineage is soft: ${JSON.stringify(refs)}`);
  const paged = (await get('/v1/observations?source_id=budget&include_purged=true&page=true&limit=2')).body;
  assert.equal(paged.items.length, 2);
  assert.equal(paged.pagination.has_more, true);
  const rest = (
    await get(
      `/v1/observations?source_id=budget&include_purged=true&page=true&limit=2&cursor=${paged.pagination.next_cursor}`,
    )
  ).body;
  assert.deepEqual(
    rest.items.map((o: any) => o.observation_id),
    [ids[2]],
  );
  const t0 = all[1].received_at_ms;
  assert.ok(
    (await get(`/v1/observations?source_id=budget&after_ms=${t0}`)).body.every(
      (o: any) => o.received_at_ms >= t0,
    ),
  );
  assert.ok(
    (await get(`/v1/observations?source_id=budget&before_ms=${t0}`)).body.every(
      (o: any) => o.received_at_ms < t0,
    ),
  );

  const short = 'short-upload-token-0001';
  await http(d.url, 'POST', '/v1/observation-sources', sourceBody('short', short, { retention_seconds: 1 }));
  const res = await upload(d.url, 'short', short, uploadBody('s1', 20));
  assert.equal(res.status, 201);
  await sleep(1500);
  const view = (await get(`/v1/observations/${res.body.observation_id}`)).body;
  assert.equal(view.retention_state, 'purged');
  assert.deepEqual((await get('/v1/observations?source_id=short')).body, []);
  const refs2 = (await get(`/v1/assets/${view.asset_id}/references`)).text;
  assert.ok(refs2.includes('"hard":true'), 'purge_raw_on_retention=false keeps the bytes held');
  const audit = (await get('/v1/observation-audit?event=retention_purged')).body;
  assert.ok(
    audit.some(
      (r: any) => r.observation_id === res.body.observation_id && r.detail.reason === 'retention_expired',
    ),
  );
  assert.ok(
    audit.some((r: any) => r.observation_id === ids[0] && r.detail.reason === 'over_observation_budget'),
  );
});
