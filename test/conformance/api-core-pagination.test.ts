// api-core §15 "Pagination" (items 15-19): legacy arrays, envelopes, limits, cursors.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon, waitForRun } from '../helpers/daemon.ts';
import { assertProblem, createSession, submitRun } from './support.ts';

let d: TestDaemon;
let base: string;
const SESSIONS = ['pg-07', 'pg-03', 'pg-01', 'pg-05', 'pg-02', 'pg-06', 'pg-04'];
const runIds: string[] = [];

before(async () => {
  d = await startDaemon({ script: { default: { turns: [{ text: 'ok' }] } } });
  base = d.url;
  for (const id of SESSIONS) await createSession(base, id);
  // Five runs over two sessions, submitted in a known order.
  for (const [i, sid] of ['pg-01', 'pg-02', 'pg-01', 'pg-02', 'pg-01'].entries()) {
    const run = await submitRun(base, sid, { content: `run ${i}` });
    runIds.push(run.run_id);
  }
  for (const id of runIds) await waitForRun(base, id);
});

after(async () => {
  await d?.stop();
  await d?.cleanup();
});

test('api-core #15: GET /v1/sessions is a legacy array without page/cursor and an envelope with page=true', async () => {
  const legacy = await http(base, 'GET', '/v1/sessions');
  assert.equal(legacy.status, 200);
  assert.ok(Array.isArray(legacy.body), legacy.text);
  assert.equal(legacy.body.length, SESSIONS.length);

  const limited = await http(base, 'GET', '/v1/sessions?limit=2');
  assert.ok(Array.isArray(limited.body), 'limit alone keeps the array shape');
  assert.equal(limited.body.length, 2);

  const paged = await http(base, 'GET', '/v1/sessions?page=true');
  assert.equal(paged.status, 200);
  assert.ok(Array.isArray(paged.body.items), paged.text);
  const p = paged.body.pagination;
  assert.equal(typeof p.limit, 'number');
  assert.equal(p.total_count, SESSIONS.length);
  assert.equal(p.has_more, false);
  assert.equal(p.order, 'session_id_asc');
  assert.equal('next_cursor' in p, false);

  const runs = await http(base, 'GET', '/v1/runs?page=true');
  assert.ok(Array.isArray(runs.body.items));
  assert.equal(runs.body.pagination.total_count, runIds.length);
  assert.equal(runs.body.pagination.order, 'submitted_at_ms_asc,run_id_asc');
});

test('api-core #16: limit=0 is 400 Problem(pagination/invalid_limit), with or without page=true', async () => {
  for (const path of [
    '/v1/sessions?limit=0',
    '/v1/sessions?limit=0&page=true',
    '/v1/runs?limit=0',
    '/v1/runs?limit=0&page=true',
    '/v1/runs?session_id=pg-01&limit=0',
  ]) {
    assertProblem(await http(base, 'GET', path), 400, 'pagination', 'invalid_limit', path);
  }
});

test('api-core #17: page limits are clamped to 100 and default to 50', async () => {
  for (const list of ['/v1/sessions', '/v1/runs']) {
    const clamped = await http(base, 'GET', `${list}?limit=500&page=true`);
    assert.equal(clamped.status, 200, clamped.text);
    assert.equal(clamped.body.pagination.limit, 100, list);
    const dflt = await http(base, 'GET', `${list}?page=true`);
    assert.equal(dflt.body.pagination.limit, 50, list);
  }
});

test('api-core #18: cursor=%%% is 400 Problem(pagination/invalid_cursor)', async () => {
  for (const path of [
    '/v1/sessions?cursor=%%%',
    '/v1/sessions?cursor=%25%25%25',
    '/v1/sessions?page=true&cursor=%25%25%25',
    '/v1/runs?cursor=%%%',
    '/v1/runs?cursor=%25%25%25',
  ]) {
    assertProblem(await http(base, 'GET', path), 400, 'pagination', 'invalid_cursor', path);
  }
});

/** Follows next_cursor from the first page; returns all items and checks each page. */
async function walk(path: string): Promise<any[]> {
  const seen: any[] = [];
  let url = path;
  for (let pages = 0; pages < 50; pages++) {
    const res = await http(base, 'GET', url);
    assert.equal(res.status, 200, res.text);
    const { items, pagination } = res.body;
    assert.ok(items.length <= pagination.limit);
    seen.push(...items);
    if (!pagination.has_more) {
      assert.equal('next_cursor' in pagination, false, `no next_cursor on the last page of ${path}`);
      return seen;
    }
    assert.equal(typeof pagination.next_cursor, 'string');
    assert.ok(items.length > 0, 'a page that announces more is not empty');
    url = `${path}&cursor=${encodeURIComponent(pagination.next_cursor)}`;
  }
  throw new Error(`more than 50 pages for ${path}`);
}

test('api-core #19: following next_cursor visits every item once, in pagination.order', async (t) => {
  await t.test('sessions, session_id_asc', async () => {
    const items = await walk('/v1/sessions?page=true&limit=2');
    const ids = items.map((s) => s.session_id);
    assert.deepEqual(ids, [...SESSIONS].sort());
    const first = await http(base, 'GET', '/v1/sessions?page=true&limit=2');
    assert.equal(first.body.pagination.total_count, SESSIONS.length);
    assert.equal(first.body.pagination.has_more, true);
  });
  await t.test('a cursor alone turns pagination on', async () => {
    const first = await http(base, 'GET', '/v1/sessions?page=true&limit=3');
    const next = await http(base, 'GET', `/v1/sessions?limit=3&cursor=${first.body.pagination.next_cursor}`);
    assert.ok(!Array.isArray(next.body), 'envelope with a cursor and no page=true');
    assert.deepEqual(
      next.body.items.map((s: any) => s.session_id),
      [...SESSIONS].sort().slice(3, 6),
    );
  });
  await t.test('runs, submitted_at_ms_asc,run_id_asc', async () => {
    const items = await walk('/v1/runs?page=true&limit=2');
    assert.deepEqual(
      items.map((r) => r.run_id),
      runIds,
    );
    for (let i = 1; i < items.length; i++)
      assert.ok(items[i].submitted_at_ms >= items[i - 1].submitted_at_ms);
  });
  await t.test('runs, submitted_at_ms_desc,run_id_desc', async () => {
    const first = await http(base, 'GET', '/v1/runs?page=true&order=desc&limit=2');
    assert.equal(first.body.pagination.order, 'submitted_at_ms_desc,run_id_desc');
    const items = await walk('/v1/runs?page=true&order=desc&limit=2');
    assert.deepEqual(
      items.map((r) => r.run_id),
      [...runIds].reverse(),
    );
  });
  await t.test('runs filtered by session', async () => {
    const items = await walk('/v1/runs?page=true&limit=1&session_id=pg-01');
    assert.deepEqual(
      items.map((r) => r.run_id),
      [runIds[0], runIds[2], runIds[4]],
    );
    const first = await http(base, 'GET', '/v1/runs?page=true&limit=1&session_id=pg-01');
    assert.equal(first.body.pagination.total_count, 3);
  });
});
