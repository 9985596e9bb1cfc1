// Scenarios the reliability harness and the benchmarks found, each reduced to one request or one
// stream, so they stay fixed: every error a problem document, no 5xx on odd input, ids the API
// hands out are addressable, and a replay of a long backlog reaches a prompt reader in one piece.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { http, type SseFrame, startDaemon } from '../helpers/daemon.ts';
import { SCRIPT } from './scripts.ts';
import { connectSse } from './sse.ts';

function assertProblem(
  res: { status: number; headers: Headers; text: string },
  status: number,
  what: string,
) {
  assert.equal(res.status, status, `${what}: status (${res.text.slice(0, 200)})`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/, `${what}: content type`);
  const p = JSON.parse(res.text);
  assert.equal(p.status, status, `${what}: problem status`);
  assert.equal(p.type, `urn:kheish:problem:${p.code}`, `${what}: problem type`);
}

test('fuzz: a repeated cursor query parameter on a session or run stream is a 400 problem, not a 500', async () => {
  const d = await startDaemon({ script: SCRIPT });
  try {
    const s = (await http(d.url, 'POST', '/v1/sessions', {})).body;
    const run = (await http(d.url, 'POST', `/v1/sessions/${s.session_id}/runs`, { content: 'kind:text #1' }))
      .body;
    for (const path of [
      `/v1/sessions/${s.session_id}/stream`,
      `/v1/runs/${run.run_id}/stream`,
      '/v1/events/stream',
    ]) {
      const res = await fetch(`${d.url}${path}?cursor=1&cursor=2`, { signal: AbortSignal.timeout(5000) });
      const text = res.status === 200 ? '' : await res.text();
      if (res.status === 200) await res.body?.cancel();
      assert.notEqual(res.status, 500, `${path}?cursor=1&cursor=2 answered 500: ${text}`);
      if (res.status !== 200) assertProblem({ status: res.status, headers: res.headers, text }, 400, path);
    }
  } finally {
    await d.kill();
    d.cleanup();
  }
});

test('fuzz: a path with a malformed percent-escape (/v1/sessions/%zz) gets a problem document', async () => {
  const d = await startDaemon({ script: SCRIPT });
  try {
    for (const path of ['/v1/sessions/%zz', '/v1/runs/%/events', '/v1/nope/%zz']) {
      const res = await http(d.url, 'GET', path);
      assert.ok(res.status >= 400 && res.status < 500, `${path}: ${res.status}`);
      assertProblem(res, res.status, path);
    }
  } finally {
    await d.kill();
    d.cleanup();
  }
});

test('fuzz: a session created with a 101–256 character id can be read, streamed and given runs', async () => {
  const d = await startDaemon({ script: SCRIPT });
  try {
    const id = `s${'x'.repeat(149)}`;
    const created = await http(d.url, 'POST', '/v1/sessions', { session_id: id });
    assert.equal(created.status, 201, created.text);
    const got = await http(d.url, 'GET', `/v1/sessions/${id}`);
    assert.equal(
      got.status,
      200,
      `GET of a session the API just created: ${got.status} ${got.text.slice(0, 200)}`,
    );
    const run = await http(d.url, 'POST', `/v1/sessions/${id}/runs`, { content: 'kind:text #1' });
    assert.equal(run.status, 202, run.text.slice(0, 200));
  } finally {
    await d.kill();
    d.cleanup();
  }
});

test('bench: replaying a 30k-event backlog from cursor 0 to a reader that keeps up is not cut with a live_lag stream_gap', async () => {
  const args = ['--event-history-capacity', '262144'];
  let d = await startDaemon({ script: SCRIPT, args });
  const first = d;
  try {
    for (let i = 0; i < 3; i++) {
      const s = (await http(d.url, 'POST', '/v1/sessions', {})).body;
      assert.equal(
        (await http(d.url, 'POST', `/v1/sessions/${s.session_id}/input`, { content: 'kind:talk #1' })).status,
        200,
      );
    }
    assert.equal(await d.stop(), 0);
    // A long history, made of copies of real event rows (the daemon is stopped, nothing else writes).
    const db = new Database(join(d.stateRoot, 'kheish.sqlite'));
    const clone = db.prepare(
      'insert into events (name, session_id, run_id, created_at_ms, data) select name, session_id, run_id, created_at_ms, data from events order by id limit ?',
    );
    const count = () => (db.prepare('select count(*) as n from events').get() as { n: number }).n;
    for (let n = count(); n < 30_000; n = count()) clone.run(Math.min(n, 30_000 - n));
    db.close();
    d = await d.restart({ args });
    const events = (await http(d.url, 'GET', '/v1/status')).body.events;
    const tail = BigInt(events.tail_event_id_cursor);
    const frames: SseFrame[] = [];
    const conn = connectSse(`${d.url}/v1/events/stream?cursor=0`, (f) => {
      frames.push(f);
      if (f.id !== undefined && BigInt(f.id) >= tail) conn.close();
    });
    const timer = setTimeout(() => conn.close(), 30_000);
    await conn.ended;
    clearTimeout(timer);
    const gaps = frames.filter((f) => f.event === 'stream_gap');
    assert.deepEqual(
      gaps.map((g) => g.data),
      [],
      'no stream_gap while replaying retained history',
    );
    assert.equal(
      frames.filter((f) => f.id !== undefined).length,
      events.retained,
      'every retained event (the 30k copies and the restart marker) replayed once',
    );
  } finally {
    await d.kill();
    d.cleanup();
    first.cleanup();
  }
});

test('review: inline /input waits for a run longer than a second (the request close event is not a disconnect)', async () => {
  const d = await startDaemon({ script: { default: { turns: [{ delay_ms: 1500, text: 'slow answer' }] } } });
  try {
    await http(d.url, 'POST', '/v1/sessions', { session_id: 'inline-slow' });
    const res = await http(d.url, 'POST', '/v1/sessions/inline-slow/input', { content: 'take your time' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.snapshot.status, 'idle', 'the answer came after the run ended');
    assert.ok(
      res.body.outputs.some((o: { content: string }) => o.content === 'slow answer'),
      'the inline reply is among the outputs',
    );
  } finally {
    await d.kill();
    d.cleanup();
  }
});
