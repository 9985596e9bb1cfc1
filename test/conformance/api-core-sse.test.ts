// api-core §15 "SSE" (items 49-58): frames, heartbeats, replay, cursors, gaps, filters, restarts.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  http,
  isLiveOnlyFrame,
  type SseFrame,
  startDaemon,
  type TestDaemon,
  waitForRun,
} from '../helpers/daemon.ts';
import {
  assertLegalStatuses,
  assertProblem,
  createSession,
  frameRunId,
  frameSessionId,
  isDelta,
  openSse,
  SCRIPT,
  type SseConn,
  sleep,
  submitRun,
} from './support.ts';

const EVENT_NAMES = [
  'trace',
  'session_state_changed',
  'session_snapshot',
  'output',
  'run_updated',
  'session_goal_updated',
  'interrupted',
  'runtime_updated',
  'heartbeat',
  'stream_gap',
];
const LONG_ANSWER = 'a fairly long answer that the driver streams in several deltas';
const SUB = 1n << 20n;

let d: TestDaemon;
let base: string;
const conns: SseConn[] = [];
/** Every id seen on any connection of this file (for #58). */
let maxIdSeen = 0n;

async function open(path: string, headers: Record<string, string> = {}): Promise<SseConn> {
  const c = await openSse(base + path, headers);
  conns.push(c);
  return c;
}

const terminalUpdate = (runId: string) => (fs: SseFrame[]) =>
  fs.some(
    (f) =>
      f.event === 'run_updated' &&
      f.data.run.run_id === runId &&
      ['completed', 'failed'].includes(f.data.run.status),
  );

/** The durable frames of a connection (no heartbeats, no live-only deltas). */
const durable = (fs: SseFrame[]) => fs.filter((f) => f.id !== undefined && !isLiveOnlyFrame(f));

function assertIncreasingIds(fs: SseFrame[], where: string): void {
  let prev = -1n;
  for (const f of fs) {
    if (f.id === undefined) continue;
    const id = BigInt(f.id);
    assert.ok(id > prev, `${where}: id ${f.id} after ${prev}`);
    prev = id;
    if (id > maxIdSeen) maxIdSeen = id;
  }
}

before(async () => {
  // One extra rule: a run that holds the session until it is cancelled (for #57's runtime_updated).
  d = await startDaemon({
    script: {
      ...SCRIPT,
      rules: [{ match: '^hold until cancelled$', turns: [{ hang: true }] }, ...SCRIPT.rules],
    },
  });
  base = d.url;
});

after(async () => {
  for (const c of conns) c.close();
  await d?.stop();
  await d?.cleanup();
});

test('api-core #49: the global stream is text/event-stream with named, id-ed, typed frames', async () => {
  const c = await open('/v1/events/stream');
  assert.equal(c.status, 200);
  assert.match(c.contentType ?? '', /^text\/event-stream/);
  const sid = await createSession(base, 'sse-49');
  const run = await submitRun(base, sid, { content: LONG_ANSWER.replace('a fairly ', 'long answer: ') });
  await c.waitFor(terminalUpdate(run.run_id), 'the run to finish');
  for (const f of c.frames) {
    assert.ok(EVENT_NAMES.includes(f.event), `event name ${f.event}`);
    assert.equal(typeof f.data, 'object', `${f.event} has JSON data`);
    assert.equal(f.data.type, f.event, `data.type equals the event name (${f.event})`);
    if (f.event !== 'heartbeat' && f.event !== 'stream_gap') {
      assert.match(f.id ?? '', /^[0-9]+$/, `${f.event} carries a decimal id`);
    }
  }
  // Decision: durable ids are row id << 20; live-only text deltas sit between two durable ids.
  for (const f of durable(c.frames)) assert.equal(BigInt(f.id!) % SUB, 0n, `durable id ${f.id}`);
  const deltas = c.frames.filter((f) => isDelta(f) && f.data.trace.run_id === run.run_id);
  assert.ok(deltas.length >= 2, 'the reply streams as several assistant_text_delta traces');
  for (const f of deltas) assert.notEqual(BigInt(f.id!) % SUB, 0n, `delta id ${f.id}`);
  assert.equal(deltas.map((f) => f.data.trace.delta).join(''), LONG_ANSWER);
  assertIncreasingIds(c.frames, '#49');
  c.close();
});

test('api-core #50: while idle the stream sends heartbeat frames without ids', async () => {
  const c = await open('/v1/events/stream');
  await c.waitFor((fs) => fs.filter((f) => f.event === 'heartbeat').length >= 2, 'two heartbeats', 4000);
  for (const f of c.frames) {
    assert.equal(f.event, 'heartbeat', 'nothing but heartbeats while idle');
    assert.deepEqual(f.data, { type: 'heartbeat' });
    assert.equal(f.id, undefined, 'heartbeats carry no id');
  }
  c.close();
});

test('api-core #51: a detached run produces run_updated frames following §3.8 up to a terminal status', async () => {
  const c = await open('/v1/events/stream');
  const sid = await createSession(base, 'sse-51');
  const run = await submitRun(base, sid, { content: 'hello' });
  await c.waitFor(terminalUpdate(run.run_id), 'the run to finish');
  const updates = c.frames.filter((f) => f.event === 'run_updated' && f.data.run.run_id === run.run_id);
  const statuses = updates.map((f) => f.data.run.status as string);
  assert.ok(['queued', 'running'].includes(statuses[0]!), statuses.join(','));
  assert.equal(statuses.at(-1), 'completed');
  // Repeated frames of one status (e.g. a new output on a running run) are fine; the order is not.
  assert.deepEqual(
    statuses.filter((s, i) => s !== statuses[i - 1]),
    ['queued', 'running', 'completed'],
  );
  assertLegalStatuses(statuses, '#51');
  for (const f of updates) assert.equal(f.data.run.session_id, sid);
  assertIncreasingIds(c.frames, '#51');
  c.close();
});

/** Frames of one run on the session stream of sse-52, kept for #52-#54. */
let firstPass: SseFrame[] = [];

test('api-core #52: Last-Event-ID replays exactly the retained events after it, in order, then live', async () => {
  const sid = await createSession(base, 'sse-52');
  const c1 = await open(`/v1/sessions/${sid}/stream`);
  const r1 = await submitRun(base, sid, { content: LONG_ANSWER });
  await c1.waitFor(terminalUpdate(r1.run_id), 'run 1 to finish');
  await c1.waitFor(
    (fs) => fs.at(-1)?.event === 'session_state_changed' || fs.at(-1)?.event === 'heartbeat',
    'settle',
  );
  c1.close();
  assertIncreasingIds(c1.frames, '#52 first pass');
  firstPass = durable(c1.frames);
  assert.ok(firstPass.length >= 6, `durable frames: ${firstPass.map((f) => f.event)}`);
  const n = firstPass[2]!.id!;
  const expected = firstPass.filter((f) => BigInt(f.id!) > BigInt(n));
  const lastId = firstPass.at(-1)!.id!;

  const c2 = await open(`/v1/sessions/${sid}/stream`, { 'last-event-id': n });
  await c2.waitFor((fs) => fs.some((f) => f.id === lastId), 'the replay to reach the last seen id');
  const r2 = await submitRun(base, sid, { content: 'hello again' });
  await c2.waitFor(terminalUpdate(r2.run_id), 'run 2 to finish live');
  c2.close();
  assertIncreasingIds(c2.frames, '#52 replay');
  const replayed = c2.frames.filter((f) => f.id !== undefined && BigInt(f.id) <= BigInt(lastId));
  assert.deepEqual(
    replayed.map((f) => [f.id, f.event, f.data]),
    expected.map((f) => [f.id, f.event, f.data]),
    'the replay is exactly the durable frames after N',
  );
  const live = c2.frames.filter((f) => f.id !== undefined && BigInt(f.id) > BigInt(lastId));
  assert.ok(
    live.some((f) => f.event === 'run_updated' && f.data.run.run_id === r2.run_id),
    'live events follow',
  );
  const ids = c2.frames.filter((f) => f.id !== undefined).map((f) => f.id);
  assert.equal(new Set(ids).size, ids.length, 'no duplicates');

  // The global stream replays the same way (other sessions' events interleave).
  const g = await open('/v1/events/stream', { 'last-event-id': n });
  await g.waitFor((fs) => fs.some((f) => f.id === lastId), 'the global replay to reach the last seen id');
  g.close();
  assertIncreasingIds(g.frames, '#52 global replay');
  assert.ok(g.frames.every((f) => f.id === undefined || BigInt(f.id) > BigInt(n)));
  const globalOfSession = g.frames.filter(
    (f) => frameSessionId(f) === sid && BigInt(f.id!) <= BigInt(lastId),
  );
  assert.deepEqual(
    globalOfSession.map((f) => f.id),
    expected.map((f) => f.id),
  );
});

async function firstDataFrame(path: string, headers: Record<string, string>): Promise<SseFrame> {
  const c = await open(path, headers);
  assert.equal(c.status, 200, JSON.stringify(c.body));
  await c.waitFor((fs) => fs.some((f) => f.event !== 'heartbeat'), 'a replayed frame');
  c.close();
  return c.frames.find((f) => f.event !== 'heartbeat')!;
}

test('api-core #53: with both Last-Event-ID and ?cursor, replay starts after the larger', async () => {
  const [e1, e2, e3] = [firstPass[1]!, firstPass[3]!, firstPass[4]!];
  const path = '/v1/sessions/sse-52/stream';
  const a = await firstDataFrame(`${path}?cursor=${e2.id}`, { 'last-event-id': e1.id! });
  assert.equal(a.id, e3.id, 'cursor larger than Last-Event-ID');
  const b = await firstDataFrame(`${path}?cursor=${e1.id}`, { 'last-event-id': e2.id! });
  assert.equal(b.id, e3.id, 'Last-Event-ID larger than cursor');
});

test('api-core #54: connecting without a cursor replays nothing', async () => {
  for (const path of ['/v1/sessions/sse-52/stream', '/v1/events/stream']) {
    const c = await open(path);
    await c.waitFor((fs) => fs.length > 0, 'a first frame', 3000);
    c.close();
    assert.equal(c.frames[0]!.event, 'heartbeat', `${path}: first frame is a heartbeat, not history`);
  }
});

test('api-core #55: a cursor older than the retained window starts with a stream_gap frame', async () => {
  const small = await startDaemon({ script: SCRIPT, args: ['--event-history-capacity', '16'] });
  try {
    const sid = await createSession(small.url, 'gap');
    for (let i = 0; i < 6; i++) {
      const r = await submitRun(small.url, sid, { content: `hello ${i}` });
      await waitForRun(small.url, r.run_id);
    }
    await sleep(200); // eviction runs after commit
    const c = await openSse(`${small.url}/v1/events/stream?cursor=1`);
    conns.push(c);
    await c.waitFor((fs) => fs.some((f) => f.event !== 'heartbeat'), 'the first replay frame');
    await c.waitFor((fs) => fs.filter((f) => f.id !== undefined).length >= 8, 'the retained events');
    c.close();
    const first = c.frames.find((f) => f.event !== 'heartbeat')!;
    assert.equal(first.event, 'stream_gap', `first frame: ${JSON.stringify(first)}`);
    assert.ok(['replay_window', 'restart_epoch'].includes(first.data.reason), first.data.reason);
    assert.ok(
      Number.isInteger(first.data.skipped) && first.data.skipped > 0,
      `skipped ${first.data.skipped}`,
    );
    assert.equal(typeof first.data.skipped_is_estimate, 'boolean');
    assert.equal(first.data.scope, 'global');
    if (first.data.resume_after_id !== undefined) assert.match(first.data.resume_after_id, /^[0-9]+$/);
    assertIncreasingIds(c.frames, '#55');
    const replayed = c.frames.filter((f) => f.id !== undefined && f.event !== 'stream_gap');
    // The window, plus what was appended since the last eviction (the log evicts every 16 appends,
    // after a commit: up to 15 more, plus the last commit's batch).
    assert.ok(replayed.length <= 16 + 16 + 8, `replay is bounded by the window (${replayed.length})`);
  } finally {
    await small.stop();
    await small.cleanup();
  }
});

test('api-core #56: a non-numeric cursor or Last-Event-ID is 400 Problem(events/invalid_event_cursor)', async () => {
  const sid = await createSession(base, 'sse-56');
  const run = await submitRun(base, sid, { content: 'hello' });
  await waitForRun(base, run.run_id);
  for (const path of ['/v1/events/stream', `/v1/sessions/${sid}/stream`, `/v1/runs/${run.run_id}/stream`]) {
    for (const [query, headers] of [
      ['?cursor=abc', {}],
      ['', { 'last-event-id': 'abc' }],
      ['?cursor=12', { 'last-event-id': 'x1' }],
      ['?cursor=1.5', {}],
    ] as const) {
      const c = await open(path + query, headers);
      c.close();
      const res = {
        status: c.status,
        headers: new Headers({ 'content-type': c.contentType ?? '' }),
        body: c.body,
        text: JSON.stringify(c.body),
      };
      assertProblem(res, 400, 'events', 'invalid_event_cursor', `${path}${query} ${JSON.stringify(headers)}`);
    }
  }
});

test('api-core #57: session streams carry only their session; run streams only trace/output/run_updated of the run', async () => {
  const [sa, sb] = [await createSession(base, 'sse-57a'), await createSession(base, 'sse-57b')];
  const sessionConn = await open(`/v1/sessions/${sa}/stream`);
  const r1 = await submitRun(base, sa, { content: 'slow answer' });
  const runConn = await open(`/v1/runs/${r1.run_id}/stream`);
  const r2 = await submitRun(base, sb, { content: 'hello from b' });
  const r3 = await submitRun(base, sa, { content: 'hello from a, queued' });
  const r4 = await submitRun(base, sb, { content: 'slow in b' });
  await waitForRun(base, r4.run_id, (r) => r.status === 'running');
  await http(base, 'POST', `/v1/sessions/${sb}/interrupt`);
  await http(base, 'POST', `/v1/sessions/${sb}/end`, {});
  for (const r of [r1, r2, r3]) await waitForRun(base, r.run_id);
  await sessionConn.waitFor(terminalUpdate(r3.run_id), 'r3 on the session stream');
  await runConn.waitFor(terminalUpdate(r1.run_id), 'r1 on the run stream');
  await sleep(100);
  const replay = await open(`/v1/sessions/${sa}/stream?cursor=1`);
  await replay.waitFor(terminalUpdate(r3.run_id), 'the session replay');
  const runReplay = await open(`/v1/runs/${r1.run_id}/stream`, { 'last-event-id': '1' });
  await runReplay.waitFor(terminalUpdate(r1.run_id), 'the run replay');
  for (const c of [sessionConn, runConn, replay, runReplay]) c.close();

  for (const [name, c] of [
    ['live', sessionConn],
    ['replay', replay],
  ] as const) {
    const scoped = c.frames.filter((f) => f.event !== 'heartbeat' && f.event !== 'stream_gap');
    assert.ok(scoped.length > 0);
    for (const f of scoped) {
      assert.notEqual(f.event, 'runtime_updated', name);
      assert.equal(
        frameSessionId(f),
        sa,
        `${name} session stream got ${f.event} ${JSON.stringify(f.data).slice(0, 200)}`,
      );
    }
    for (const r of [r1, r3])
      assert.ok(
        scoped.some((f) => frameRunId(f) === r.run_id),
        `${name}: sees ${r.run_id}`,
      );
    assertIncreasingIds(c.frames, `#57 session ${name}`);
  }
  for (const [name, c] of [
    ['live', runConn],
    ['replay', runReplay],
  ] as const) {
    for (const f of c.frames) {
      assert.ok(
        ['trace', 'output', 'run_updated', 'heartbeat', 'stream_gap'].includes(f.event),
        `${name} run stream got ${f.event}`,
      );
      if (['trace', 'output', 'run_updated'].includes(f.event))
        assert.equal(frameRunId(f), r1.run_id, `${name} ${f.event}`);
    }
    assert.ok(
      c.frames.some((f) => f.event === 'output' && f.data.output.content === 'slept'),
      `${name}: output`,
    );
    assertIncreasingIds(c.frames, `#57 run ${name}`);
  }
  const liveDeltas = runConn.frames.filter(isDelta);
  assert.equal(
    liveDeltas.map((f) => f.data.trace.delta).join(''),
    'slept',
    'live run stream carries the text deltas',
  );
  assert.equal(runReplay.frames.filter(isDelta).length, 0, 'deltas are live-only: never replayed');
});

test('api-core #57: runtime_updated reaches the global stream but never a session or run stream, live or replayed', async () => {
  const session = await createSession(base, 'sse-57c');
  const held = await submitRun(base, session, { content: 'hold until cancelled' });
  await waitForRun(base, held.run_id, (r) => r.status === 'running');
  const global = await open('/v1/events/stream');
  const sessionConn = await open(`/v1/sessions/${session}/stream`);
  const runConn = await open(`/v1/runs/${held.run_id}/stream`);
  const mode = (await http(base, 'GET', '/v1/runtime')).body.permission_mode;
  const set = await http(base, 'POST', '/v1/runtime/permission-mode', { mode });
  assert.equal(set.status, 200, set.text);
  await global.waitFor(
    (fs) => fs.some((f) => f.event === 'runtime_updated'),
    'runtime_updated on the global stream',
  );
  const update = global.frames.find((f) => f.event === 'runtime_updated')!;
  assert.ok(update.id !== undefined, 'runtime_updated is durable');
  const updateId = BigInt(update.id!);
  // Events of the session and its run after the update: a stream that would carry runtime_updated
  // has delivered it before them (frames are in id order).
  assert.equal((await http(base, 'POST', `/v1/runs/${held.run_id}/cancel`)).status, 200);
  const cancelled = (fs: SseFrame[]) =>
    fs.some(
      (f) =>
        f.event === 'run_updated' && f.data.run.run_id === held.run_id && f.data.run.status === 'cancelled',
    );
  await sessionConn.waitFor(cancelled, 'the cancel on the session stream');
  await runConn.waitFor(cancelled, 'the cancel on the run stream');
  const sessionReplay = await open(`/v1/sessions/${session}/stream?cursor=1`);
  const runReplay = await open(`/v1/runs/${held.run_id}/stream`, { 'last-event-id': '1' });
  await sessionReplay.waitFor(cancelled, 'the session replay');
  await runReplay.waitFor(cancelled, 'the run replay');
  for (const [name, c] of [
    ['live session', sessionConn],
    ['live run', runConn],
    ['replayed session', sessionReplay],
    ['replayed run', runReplay],
  ] as const) {
    c.close();
    assert.ok(
      c.frames.some((f) => f.id !== undefined && BigInt(f.id) > updateId),
      `${name} stream went past the update`,
    );
    assert.deepEqual(
      c.frames.filter((f) => f.event === 'runtime_updated'),
      [],
      `${name} stream carries no runtime_updated`,
    );
    assertIncreasingIds(c.frames, `#57 runtime ${name}`);
  }
  global.close();
});

test('api-core #58: ids increase on a connection and keep increasing across a daemon restart', async (t) => {
  assert.ok(maxIdSeen > 0n);
  const before = maxIdSeen;
  await d.stop();
  d = await d.restart();
  base = d.url;
  await t.test('new events after the restart have larger ids', async () => {
    const c = await open('/v1/events/stream');
    const run = await submitRun(base, 'sse-52', { content: LONG_ANSWER });
    await c.waitFor(terminalUpdate(run.run_id), 'a run after the restart');
    c.close();
    const ids = c.frames.filter((f) => f.id !== undefined).map((f) => BigInt(f.id!));
    assert.ok(ids.length > 3);
    for (const id of ids) assert.ok(id > before, `id ${id} <= ${before} seen before the restart`);
    assertIncreasingIds(c.frames, '#58 after restart');
  });
  await t.test('the durable log replays across the restart without a gap', async () => {
    const c = await open('/v1/events/stream', { 'last-event-id': String(before) });
    await c.waitFor(
      (fs) => fs.some((f) => f.event === 'run_updated' && f.data.run.status === 'completed'),
      'the replay',
    );
    c.close();
    assert.equal(
      c.frames.some((f) => f.event === 'stream_gap'),
      false,
    );
    assert.ok(c.frames.every((f) => f.id === undefined || BigInt(f.id) > before));
    assertIncreasingIds(c.frames, '#58 replay across restart');
  });
});
