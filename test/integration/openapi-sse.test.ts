// The OpenAPI document declares `text/event-stream` (not JSON) for every SSE route, with the cursor
// query parameter and the Last-Event-ID header, and each route it declares so really streams.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon } from '../helpers/daemon.ts';

let d: TestDaemon;
before(async () => {
  d = await startDaemon();
});
after(async () => {
  await d.kill();
  await d.cleanup();
});

const SSE_PATHS = [
  '/v1/events/stream',
  '/v1/sessions/{session_id}/stream',
  '/v1/runs/{run_id}/stream',
  '/v1/channels/{channel_id}/stream',
  '/v1/flows/{flow_id}/stream',
];

test('openapi: every SSE route answers 200 with text/event-stream content, a cursor and Last-Event-ID', async () => {
  const doc = (await http(d.url, 'GET', '/v1/openapi.json')).body;
  const streaming = Object.entries(doc.paths as Record<string, any>)
    .filter(([, item]) => item.get?.responses?.['200']?.content?.['text/event-stream'])
    .map(([path]) => path)
    .sort();
  assert.deepEqual(streaming, [...SSE_PATHS].sort());
  for (const path of Object.keys(doc.paths))
    if (path.endsWith('/stream'))
      assert.ok(streaming.includes(path), `${path} streams but is not declared so`);
  for (const path of SSE_PATHS) {
    const get = doc.paths[path].get;
    assert.deepEqual(Object.keys(get.responses['200'].content), ['text/event-stream'], path);
    assert.match(get.responses['200'].description, /Last-Event-ID/);
    const params = get.parameters.map((p: { in: string; name: string }) => `${p.in}:${p.name}`);
    assert.ok(params.includes('query:cursor'), `${path}: ${params}`);
    assert.ok(params.includes('header:last-event-id'), `${path}: ${params}`);
  }
});

test('openapi: the routes declared as text/event-stream stream, and still answer a bad cursor as a problem', async () => {
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'oa' });
  const run = (await http(d.url, 'POST', '/v1/sessions/oa/runs', { content: 'hi' })).body;
  await http(d.url, 'POST', '/v1/channels', { channel_id: 'oa', title: 'OA' });
  const manifest = { playbook_id: 'oa', version: '1', title: 'OA', objective: 'stream' };
  const digest = (await http(d.url, 'POST', '/v1/playbooks', { manifest })).body.selected_version.digest;
  const ref = { playbook_id: 'oa', version: '1', digest };
  await http(d.url, 'POST', '/v1/playbooks/oa/publish', {
    ...ref,
    evidence_refs: [{ kind: 'manual', id: 'm' }],
  });
  const flow = await http(d.url, 'POST', '/v1/flows', {
    flow_id: 'oa',
    playbook_ref: ref,
    session_id: 'oa',
    request: { content: 'hi' },
  });
  assert.equal(flow.status, 200, flow.text);
  const concrete = [
    '/v1/flows/oa/stream',
    '/v1/events/stream',
    '/v1/sessions/oa/stream',
    `/v1/runs/${run.run_id}/stream`,
    '/v1/channels/oa/stream',
  ];
  for (const path of concrete) {
    const ac = new AbortController();
    const res = await fetch(d.url + path, { headers: { 'last-event-id': '0' }, signal: ac.signal });
    assert.equal(res.status, 200, path);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/, path);
    ac.abort();
    await res.body?.cancel().catch(() => undefined);
    const bad = await http(d.url, 'GET', `${path}?cursor=1&cursor=2`);
    assert.equal(bad.status, 400, `${path}: ${bad.text}`);
    assert.equal(bad.body.code, 'invalid_event_cursor');
  }
});
