// resumeStream (the SDK's reconnecting stream, also under the CLI's follow) against a real HTTP
// server that drops its connections: each frame is yielded once, the reconnect carries the last id
// seen, failures before the first connect and non-transport errors are thrown at once.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { follow } from '../../src/cli/follow.ts';
import { DaemonClient } from '../../src/sdk/client.ts';
import { DaemonProblemError, DaemonUnreachableError } from '../../src/sdk/errors.ts';
import { type ReconnectInfo, resumeStream } from '../../src/sdk/follow.ts';
import type { SseFrame } from '../../src/sdk/types.ts';

const frame = (id: number) => `id: ${id}\nevent: run_updated\ndata: {"type":"run_updated","n":${id}}\n\n`;
const fast = () => 1;

describe('resumeStream over HTTP', () => {
  let server: Server;
  let client: DaemonClient;
  const requests: IncomingMessage[] = [];

  before(async () => {
    // /v1/runs/drop/stream: events 1..6 in total, at most 2 per connection, replayed after the
    // Last-Event-ID (or ?cursor) like the daemon does; then the connection is cut.
    server = createServer((req, res) => {
      requests.push(req);
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/v1/runs/gone/stream') {
        res.writeHead(404, { 'content-type': 'application/problem+json' });
        res.end(
          JSON.stringify({ status: 404, code: 'run_not_found', domain: 'runs', detail: 'no run gone' }),
        );
        return;
      }
      const after = Number(req.headers['last-event-id'] ?? url.searchParams.get('cursor') ?? 0);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const ids = [after + 1, after + 2].filter((id) => id <= 6);
      res.write(ids.map(frame).join(''));
      if (ids.length === 0) res.write('event: heartbeat\ndata: {"type":"heartbeat"}\n\n');
      setTimeout(() => res.destroy(), 20);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    client = new DaemonClient({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  });

  after(() => server.close());

  const open =
    (runId: string) =>
    ({ cursor, signal, onOpen }: { cursor?: string; signal: AbortSignal; onOpen: () => Promise<void> }) =>
      client.streamRun(runId, {}, { lastEventId: cursor, signal, onOpen });

  test('yields every frame once across dropped connections, reconnecting with Last-Event-ID', async () => {
    requests.length = 0;
    const reconnects: ReconnectInfo[] = [];
    const ids: string[] = [];
    for await (const f of resumeStream({
      open: open('drop'),
      backoffMs: fast,
      onReconnect: (info) => reconnects.push(info),
    })) {
      if (f.id) ids.push(f.id);
      if (f.id === '6') break;
    }
    assert.deepEqual(ids, ['1', '2', '3', '4', '5', '6']);
    assert.deepEqual(
      requests.map((r) => r.headers['last-event-id']),
      [undefined, '2', '4'],
    );
    assert.equal(reconnects.length, 2);
    assert.ok(reconnects.every((r) => r.attempt === 1 && r.delayMs === 1));
  });

  test('starts after the given cursor', async () => {
    const ids: string[] = [];
    for await (const f of resumeStream({ open: open('drop'), cursor: '3', backoffMs: fast })) {
      if (f.id) ids.push(f.id);
      if (f.id === '6') break;
    }
    assert.deepEqual(ids, ['4', '5', '6']);
  });

  test('a failed first connection and a non-retryable answer are thrown, not retried', async () => {
    const closed = new DaemonClient({ baseUrl: 'http://127.0.0.1:9' });
    const unreachable = resumeStream({
      open: ({ cursor, signal, onOpen }) =>
        closed.streamRun('x', {}, { lastEventId: cursor, signal, onOpen }),
      backoffMs: fast,
    });
    await assert.rejects(unreachable.next(), DaemonUnreachableError);
    requests.length = 0;
    await assert.rejects(resumeStream({ open: open('gone'), backoffMs: fast }).next(), (err) => {
      assert.ok(err instanceof DaemonProblemError);
      assert.equal(err.code, 'run_not_found');
      return true;
    });
    assert.equal(requests.length, 1);
  });

  test('onDrop may end the stream; aborting the signal ends it quietly', async () => {
    const seen: SseFrame[] = [];
    for await (const f of resumeStream({ open: open('drop'), onDrop: async () => 'stop', backoffMs: fast }))
      seen.push(f);
    assert.deepEqual(
      seen.map((f) => f.id),
      ['1', '2'],
    );
    const ctrl = new AbortController();
    const ids: string[] = [];
    for await (const f of resumeStream({ open: open('drop'), signal: ctrl.signal, backoffMs: fast })) {
      ids.push(f.id!);
      ctrl.abort();
    }
    assert.deepEqual(ids, ['1']);
  });

  test("the CLI's follow: 'stopped' when a frame says so, a note per reconnect", async () => {
    const notes: string[] = [];
    const ids: string[] = [];
    const end = await follow({
      open: open('drop'),
      signal: new AbortController().signal,
      backoffMs: fast,
      note: (line) => notes.push(line),
      onFrame: (f) => {
        ids.push(f.id!);
        return f.id === '5' ? 'stop' : undefined;
      },
    });
    assert.equal(end, 'stopped');
    assert.deepEqual(ids, ['1', '2', '3', '4', '5']);
    assert.equal(notes.length, 2);
    assert.match(notes[0]!, /^stream interrupted \(.+\); reconnecting in 0\.0s$/);
  });
});
