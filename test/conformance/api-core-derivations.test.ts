// Derivations conformance (api-core §8.5, #86): the versioned cache (miss then hit, same id),
// force_refresh, views, references, validation errors that persist nothing, session-input
// subjects, listing. Runs on SQLite, and on PostgreSQL with KHEISH_TEST_STORE=postgres.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon, waitForRun } from '../helpers/daemon.ts';
import { derive, uploadAsset } from '../helpers/derivations.ts';
import { assertProblem } from './support.ts';

let d: TestDaemon;
const base = () => d.url;

before(async () => {
  d = await startDaemon({ script: { default: { turns: [{ text: 'ok' }] } } });
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
});

const count = async () => (await http(base(), 'GET', '/v1/derivations')).body.length as number;

test('api-core #86: two identical POST /v1/derivations calls return the same derivation_id with cache_status miss then hit', async () => {
  const asset = await uploadAsset(base(), 'notes.txt', 'text/plain', 'the quarterly notes\n');
  const body = { profile: 'canonical_text', subject: { type: 'asset', asset_id: asset.asset_id } };
  const first = await derive(base(), body);
  assert.equal(first.status, 200, first.text);
  const second = await derive(base(), body);
  assert.equal(second.status, 200, second.text);
  assert.equal(first.body.cache_status, 'miss');
  assert.equal(second.body.cache_status, 'hit');
  assert.equal(second.body.derivation_id, first.body.derivation_id);

  const v = first.body;
  assert.match(v.derivation_id, /^derivation-[0-9a-z]{26}$/);
  assert.equal(v.profile, 'canonical_text');
  assert.deepEqual(v.subject, body.subject);
  assert.equal(v.status, 'completed');
  assert.equal(v.result_asset_id, asset.asset_id, 'a text asset is its own canonical text');
  assert.equal(v.reused_subject_asset, true);
  assert.equal(v.profile_version, 1);
  assert.match(v.source_fingerprint, /^[0-9a-f]{64}$/);
  assert.ok(Number.isInteger(v.created_at_ms));
  assert.equal(v.backend, undefined, 'no external backend was used');
  assert.equal(v.error, undefined);
  const { cache_status: _c, ...stored } = v;
  assert.deepEqual({ ...second.body, cache_status: undefined }, { ...stored, cache_status: undefined });

  const got = await http(base(), 'GET', `/v1/derivations/${v.derivation_id}`);
  assert.equal(got.status, 200, got.text);
  assert.equal('cache_status' in got.body, false, 'cache_status is only on POST responses');
  assert.deepEqual(got.body, stored);

  const refs = await http(base(), 'GET', `/v1/assets/${asset.asset_id}/references`);
  assert.equal(refs.status, 200, refs.text);
  const mine = refs.body.references.filter((r: any) => r.domain === 'derivations');
  assert.deepEqual(mine.map((r: any) => [r.owner_id, r.role, r.hard]).sort(), [
    [v.derivation_id, 'result', true],
    [v.derivation_id, 'subject', false],
  ]);
  const view = await http(base(), 'GET', `/v1/assets/${asset.asset_id}`);
  assert.deepEqual(view.body.derivation_ids, [v.derivation_id], 'the result asset lists its derivation');
});

test('api-core §8.5: force_refresh recomputes and the new record answers later calls; retry_failed leaves a completed record alone', async () => {
  const asset = await uploadAsset(base(), 'refresh.md', 'text/markdown', '# refresh me\n');
  const body = { profile: 'canonical_text', subject: { type: 'asset', asset_id: asset.asset_id } };
  const first = (await derive(base(), body)).body;
  const retried = await derive(base(), body, '?retry_failed=true');
  assert.equal(retried.body.derivation_id, first.derivation_id);
  assert.equal(retried.body.cache_status, 'hit');
  const forced = await derive(base(), body, '?force_refresh=true');
  assert.equal(forced.status, 200, forced.text);
  assert.equal(forced.body.cache_status, 'miss');
  assert.notEqual(forced.body.derivation_id, first.derivation_id);
  assert.equal(forced.body.source_fingerprint, first.source_fingerprint, 'same versioned key');
  const later = await derive(base(), body);
  assert.equal(later.body.derivation_id, forced.body.derivation_id);
  assert.equal(later.body.cache_status, 'hit');
  const old = await http(base(), 'GET', `/v1/derivations/${first.derivation_id}`);
  assert.equal(old.status, 200, 'the earlier attempt stays readable');
});

test('api-core §8.5: validation errors are rejected without persisting a derivation', async () => {
  const text = await uploadAsset(base(), 'plain.txt', 'text/plain', 'plain words\n');
  const before = await count();
  const cases: Array<[unknown, number, string, string]> = [
    [
      { profile: 'canonical_text', subject: { type: 'asset', asset_id: 'asset-nope' } },
      404,
      'derivations',
      'derivation_subject_not_found',
    ],
    [
      {
        profile: 'canonical_text',
        subject: { type: 'session_input', session_id: 'no-such-session', offset: 0 },
      },
      404,
      'derivations',
      'derivation_subject_not_found',
    ],
    [
      { profile: 'visual_preview', subject: { type: 'asset', asset_id: text.asset_id } },
      400,
      'derivations',
      'unsupported_derivation',
    ],
    [
      {
        profile: 'canonical_text',
        subject: { type: 'asset', asset_id: text.asset_id },
        transcription: { language: 'en' },
      },
      400,
      'derivations',
      'invalid_derivation_request',
    ],
  ];
  for (const [body, status, domain, code] of cases)
    assertProblem(await derive(base(), body), status, domain, code, JSON.stringify(body));
  for (const body of [
    { profile: 'summary', subject: { type: 'asset', asset_id: text.asset_id } },
    { profile: 'canonical_text', subject: { type: 'asset' } },
    { profile: 'canonical_text', subject: { type: 'blob', asset_id: text.asset_id } },
    { profile: 'canonical_text', subject: { type: 'session_input', session_id: 's', offset: -1 } },
    { profile: 'canonical_text', subject: { type: 'asset', asset_id: text.asset_id }, extra: 1 },
    {
      profile: 'canonical_text',
      subject: { type: 'asset', asset_id: text.asset_id },
      transcription: { timestamp_granularities: ['line'] },
    },
  ]) {
    const res = await derive(base(), body);
    assert.equal(res.status, 400, `${JSON.stringify(body)} -> ${res.status} ${res.text}`);
  }
  assertProblem(
    await http(base(), 'GET', '/v1/derivations/derivation-nope'),
    404,
    'derivations',
    'derivation_not_found',
  );
  assert.equal(await count(), before, 'nothing was persisted');
});

test('api-core §8.5 (decision #252): a session_input offset counts the session input items in order', async () => {
  const s = await http(base(), 'POST', '/v1/sessions', { session_id: 'deriv-inputs' });
  assert.ok(s.status < 300, s.text);
  const run = await http(base(), 'POST', '/v1/sessions/deriv-inputs/runs', { content: 'first words' });
  assert.equal(run.status, 202, run.text);
  await waitForRun(base(), run.body.run_id);
  const subject = (offset: number) => ({
    profile: 'canonical_text',
    subject: { type: 'session_input', session_id: 'deriv-inputs', offset },
  });
  assertProblem(
    await derive(base(), subject(0)),
    400,
    'derivations',
    'unsupported_derivation',
    'a text item',
  );
  assertProblem(
    await derive(base(), subject(1)),
    404,
    'derivations',
    'derivation_subject_not_found',
    'past the end',
  );
});

test('api-core §8.5 (decision #252): a session_input asset item derives like its asset, under its own subject key', async () => {
  const asset = await uploadAsset(base(), 'attached.csv', 'text/csv', 'a,b\n1,2\n');
  await http(base(), 'POST', '/v1/sessions', { session_id: 'deriv-assets' });
  const withAsset = await http(base(), 'POST', '/v1/sessions/deriv-assets/runs', {
    content: 'see attached',
    attachments: [{ type: 'asset_reference', asset_id: asset.asset_id }],
  });
  assert.equal(withAsset.status, 202, withAsset.text);
  await waitForRun(base(), withAsset.body.run_id);
  const subject = {
    profile: 'canonical_text',
    subject: { type: 'session_input', session_id: 'deriv-assets', offset: 1 },
  };
  const made = await derive(base(), subject);
  assert.equal(made.status, 200, made.text);
  assert.equal(made.body.result_asset_id, asset.asset_id);
  assert.deepEqual(made.body.subject, subject.subject);
  const own = await derive(base(), {
    profile: 'canonical_text',
    subject: { type: 'asset', asset_id: asset.asset_id },
  });
  assert.notEqual(own.body.derivation_id, made.body.derivation_id, 'a different subject key');
  assert.equal((await derive(base(), subject)).body.cache_status, 'hit');
});

test('api-core §8.5: GET /v1/derivations filters by query and paginates', async () => {
  const a = await uploadAsset(base(), 'list-a.txt', 'text/plain', 'list a\n');
  const b = await uploadAsset(base(), 'list-b.json', 'application/json', '{"list":"b"}');
  const da = (
    await derive(base(), { profile: 'canonical_text', subject: { type: 'asset', asset_id: a.asset_id } })
  ).body;
  const db = (
    await derive(base(), { profile: 'canonical_text', subject: { type: 'asset', asset_id: b.asset_id } })
  ).body;
  const byAsset = await http(base(), 'GET', `/v1/derivations?query=${b.asset_id.toUpperCase()}`);
  assert.deepEqual(
    byAsset.body.map((x: any) => x.derivation_id),
    [db.derivation_id],
    'case-insensitive substring',
  );
  const byId = await http(base(), 'GET', `/v1/derivations?query=${da.derivation_id}`);
  assert.deepEqual(
    byId.body.map((x: any) => x.derivation_id),
    [da.derivation_id],
  );
  assert.deepEqual(
    (await http(base(), 'GET', '/v1/derivations?query=%25')).body,
    [],
    'LIKE wildcards are literal',
  );
  const all = (await http(base(), 'GET', '/v1/derivations')).body.map((x: any) => x.derivation_id);
  assert.deepEqual([...all].sort(), all, 'derivation_id order');
  const p1 = await http(base(), 'GET', '/v1/derivations?page=true&limit=2');
  assert.equal(p1.body.items.length, 2);
  assert.equal(p1.body.pagination.order, 'derivation_id_asc');
  assert.equal(p1.body.pagination.total_count, all.length);
  const p2 = await http(base(), 'GET', `/v1/derivations?limit=2&cursor=${p1.body.pagination.next_cursor}`);
  assert.deepEqual(
    p2.body.items.map((x: any) => x.derivation_id),
    all.slice(2, 4),
  );
});

test('api-core §8.5 (decision 264): a read-only token lists and reads derivations but cannot create one', async () => {
  const ADMIN = { authorization: 'Bearer deriv-admin-token-0123456789' };
  const READONLY = { authorization: 'Bearer deriv-readonly-token-0123456789' };
  const guarded = await startDaemon({
    args: [
      '--http-admin-token',
      ADMIN.authorization.slice(7),
      '--http-readonly-token',
      READONLY.authorization.slice(7),
    ],
  });
  try {
    const made = await http(
      guarded.url,
      'POST',
      '/v1/assets',
      {
        file_name: 'ro.txt',
        media_type: 'text/plain',
        content_base64: Buffer.from('read only\n').toString('base64'),
      },
      ADMIN,
    );
    const body = { profile: 'canonical_text', subject: { type: 'asset', asset_id: made.body.asset_id } };
    assertProblem(
      await http(guarded.url, 'POST', '/v1/derivations', body, READONLY),
      403,
      'auth',
      'insufficient_access',
    );
    const created = await http(guarded.url, 'POST', '/v1/derivations', body, ADMIN);
    assert.equal(created.status, 200, created.text);
    const list = await http(guarded.url, 'GET', '/v1/derivations', undefined, READONLY);
    assert.deepEqual(
      list.body.map((x: any) => x.derivation_id),
      [created.body.derivation_id],
    );
    const one = await http(
      guarded.url,
      'GET',
      `/v1/derivations/${created.body.derivation_id}`,
      undefined,
      READONLY,
    );
    assert.equal(one.status, 200, one.text);
  } finally {
    await guarded.kill();
    await guarded.cleanup();
  }
});
