// GET /v1/runs?priority_active=true lists live runs first, then the others, each most recently
// updated first; `limit` takes the first N of that order (active work is never cut off), and
// the paginated form follows the same order page by page.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon, waitForRun } from '../helpers/daemon.ts';

let d: TestDaemon;
const done: string[] = [];
let hung = '';
let queued = '';

before(async () => {
  d = await startDaemon({
    script: { rules: [{ match: '^hang', turns: [{ hang: true }] }], default: { turns: [{ text: 'ok' }] } },
  });
  for (const s of ['p1', 'p2']) await http(d.url, 'POST', '/v1/sessions', { session_id: s });
  // Five finished runs, then a hanging one and one queued behind it: the two live runs are the
  // last submitted on p2 but were submitted after most of the finished ones on p1.
  for (let i = 0; i < 5; i++) {
    const r = (await http(d.url, 'POST', '/v1/sessions/p1/runs', { content: `done ${i}` })).body;
    await waitForRun(d.url, r.run_id);
    done.push(r.run_id);
  }
  hung = (await http(d.url, 'POST', '/v1/sessions/p2/runs', { content: 'hang' })).body.run_id;
  queued = (await http(d.url, 'POST', '/v1/sessions/p2/runs', { content: 'later' })).body.run_id;
  await waitForRun(d.url, hung, (r) => r.status === 'running');
  // One more finished run, submitted after the live ones: without the priority it would come first.
  const last = (await http(d.url, 'POST', '/v1/sessions/p1/runs', { content: 'done last' })).body;
  await waitForRun(d.url, last.run_id);
  done.push(last.run_id);
});
after(async () => {
  await d.kill();
  await d.cleanup();
});

const ids = (list: Array<{ run_id: string }>) => list.map((r) => r.run_id);

test('runs list priority_active=true&limit=N: the live runs first, then the most recently updated', async () => {
  const two = (await http(d.url, 'GET', '/v1/runs?priority_active=true&limit=2')).body;
  assert.ok(Array.isArray(two));
  assert.deepEqual(new Set(ids(two)), new Set([hung, queued]));
  const three = (await http(d.url, 'GET', '/v1/runs?priority_active=true&limit=3')).body;
  assert.equal(three[2].run_id, done.at(-1), 'after the live runs, the most recently finished');
  const all = (await http(d.url, 'GET', '/v1/runs?priority_active=true')).body;
  assert.equal(all.length, 8);
  assert.deepEqual(new Set(ids(all.slice(0, 2))), new Set([hung, queued]));
  for (let i = 3; i < all.length; i++) assert.ok(all[i - 1].updated_at_ms >= all[i].updated_at_ms);
  const p2 = (await http(d.url, 'GET', '/v1/runs?priority_active=true&session_id=p1&limit=1')).body;
  assert.deepEqual(ids(p2), [done.at(-1)]);
});

test('runs list priority_active=true&page=true: cursors follow the same order, each run once', async () => {
  const all = ids((await http(d.url, 'GET', '/v1/runs?priority_active=true')).body);
  const seen: string[] = [];
  let cursor: string | undefined;
  for (let n = 0; n < 10; n++) {
    const q = cursor ? `&cursor=${cursor}` : '';
    const page = (await http(d.url, 'GET', `/v1/runs?priority_active=true&page=true&limit=3${q}`)).body;
    assert.equal(page.pagination.total_count, 8);
    seen.push(...ids(page.items));
    if (!page.pagination.has_more) break;
    cursor = page.pagination.next_cursor;
  }
  assert.deepEqual(seen, all);
  const bad = await http(d.url, 'GET', '/v1/runs?priority_active=true&page=true&cursor=eyJrIjoiMTIifQ');
  assert.equal(bad.status, 400);
  assert.equal(bad.body.code, 'invalid_cursor');
});
