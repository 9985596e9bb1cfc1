import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { DaemonProblemError, DaemonUnreachableError, SseFrameTooLargeError } from '../../src/sdk/errors.ts';
import { MAX_SSE_FRAME_BYTES, SseParser, streamEvents } from '../../src/sdk/sse.ts';
import type { SseFrame } from '../../src/sdk/types.ts';

const bytes = (s: string) => new TextEncoder().encode(s);

function parseAll(chunks: Array<string | Uint8Array>, max?: number): SseFrame[] {
  const parser = new SseParser({ maxFrameBytes: max });
  const out: SseFrame[] = [];
  for (const c of chunks) out.push(...parser.push(typeof c === 'string' ? bytes(c) : c));
  parser.end();
  return out;
}

const WIRE =
  'id: 4294967297001\nevent: run_updated\ndata: {"type":"run_updated","run":{"run_id":"run-1","status":"running"}}\n\n' +
  'event: heartbeat\ndata: {"type":"heartbeat"}\n\n' +
  'id: 4294967297002\nevent: output\ndata: {"type":"output","output":{"content":"héllo ✓"}}\n\n';

describe('SseParser', () => {
  test('parses frames, keeps ids as strings, and gives heartbeats no id', () => {
    const frames = parseAll([WIRE]);
    assert.equal(frames.length, 3);
    assert.deepEqual(frames[0], {
      id: '4294967297001',
      event: 'run_updated',
      data: { type: 'run_updated', run: { run_id: 'run-1', status: 'running' } },
    });
    assert.equal(frames[1].event, 'heartbeat');
    assert.equal('id' in frames[1], false);
    assert.deepEqual(frames[1].data, { type: 'heartbeat' });
    assert.equal(frames[2].data.output.content, 'héllo ✓');
  });

  test('gives the same frames whatever the chunk boundaries (including inside UTF-8 sequences)', () => {
    const all = bytes(WIRE);
    const expected = parseAll([all]);
    for (let cut = 1; cut < all.length; cut++) {
      assert.deepEqual(parseAll([all.subarray(0, cut), all.subarray(cut)]), expected, `cut at ${cut}`);
    }
    // One byte at a time.
    assert.deepEqual(parseAll(Array.from(all, (b) => Uint8Array.of(b))), expected);
  });

  test('accepts CRLF and lone CR line ends, also when CR and LF land in different chunks', () => {
    const crlf = WIRE.replaceAll('\n', '\r\n');
    const cr = WIRE.replaceAll('\n', '\r');
    const expected = parseAll([WIRE]);
    assert.deepEqual(parseAll([crlf]), expected);
    assert.deepEqual(parseAll([cr]), expected);
    const at = crlf.indexOf('\r\n') + 1;
    assert.deepEqual(parseAll([crlf.slice(0, at), crlf.slice(at)]), expected);
  });

  test('joins multi-line data with LF and strips exactly one space after the colon', () => {
    const frames = parseAll(['event: note\ndata: first\ndata:second\ndata:  third\n\n']);
    assert.deepEqual(frames, [{ event: 'note', data: 'first\nsecond\n third' }]);
  });

  test('multi-line data holding JSON is parsed as one document', () => {
    const frames = parseAll(['id: 7\nevent: output\ndata: {"type":"output",\ndata: "n":1}\n\n']);
    assert.deepEqual(frames, [{ id: '7', event: 'output', data: { type: 'output', n: 1 } }]);
  });

  test('ignores comments and unknown fields, defaults the event name to message', () => {
    const parser = new SseParser();
    const frames = parser.push(bytes(': keepalive\nfoo: bar\nretry: 1500\ndata: {"a":1}\n\n:\n\n'));
    assert.deepEqual(frames, [{ event: 'message', data: { a: 1 } }]);
    assert.equal(parser.retryMs, 1500);
  });

  test('a frame with no data is not dispatched, and a trailing unterminated frame is dropped', () => {
    const parser = new SseParser();
    assert.deepEqual(parser.push(bytes('id: 9\nevent: x\n\n')), []);
    assert.equal(parser.lastEventId, '9');
    assert.deepEqual(parser.push(bytes('event: y\ndata: {"b":2}\n')), []);
    parser.end();
    assert.deepEqual(parser.push(bytes('data: 1\n\n')), [{ event: 'message', data: 1 }]);
  });

  test('the id does not leak from one frame into the next', () => {
    const frames = parseAll(['id: 1\nevent: a\ndata: 1\n\nevent: heartbeat\ndata: {}\n\n']);
    assert.equal(frames[0].id, '1');
    assert.equal(frames[1].id, undefined);
  });

  test('aborts when one frame exceeds the limit, even if it arrives in small chunks', () => {
    const parser = new SseParser({ maxFrameBytes: 64 });
    parser.push(bytes('event: output\n'));
    assert.throws(() => {
      for (let i = 0; i < 20; i++) parser.push(bytes(i === 0 ? 'data: ' : 'xxxxxxxx'));
    }, SseFrameTooLargeError);
  });

  test('counts a frame across its lines, and resets the count after each frame', () => {
    const line = `data: ${'x'.repeat(20)}\n`;
    // Many small frames in a row are fine...
    assert.equal(parseAll([`${line}\n`.repeat(50)], 64).length, 50);
    // ...but four lines of one frame are not.
    assert.throws(() => parseAll([`${line.repeat(4)}\n`], 64), SseFrameTooLargeError);
  });

  test('the default limit is 1 MiB', () => {
    assert.equal(MAX_SSE_FRAME_BYTES, 1024 * 1024);
    const ok = `data: "${'a'.repeat(MAX_SSE_FRAME_BYTES - 20)}"\n\n`;
    assert.equal(parseAll([ok]).length, 1);
    const big = `data: "${'a'.repeat(MAX_SSE_FRAME_BYTES)}"\n\n`;
    assert.throws(() => parseAll([big]), SseFrameTooLargeError);
  });
});

describe('streamEvents over HTTP', () => {
  let server: Server;
  let base: string;
  let lastHeaders: IncomingMessage['headers'] = {};
  let lastUrl = '';

  before(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      lastHeaders = req.headers;
      lastUrl = req.url ?? '';
      if (req.url?.startsWith('/missing')) {
        res.writeHead(404, { 'content-type': 'application/problem+json' });
        res.end(
          JSON.stringify({
            type: 'urn:kheish:problem:run_not_found',
            title: 'Not Found',
            status: 404,
            detail: 'run x was not found',
            code: 'run_not_found',
            domain: 'runs',
          }),
        );
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
      if (req.url?.startsWith('/huge')) {
        res.write('event: output\n');
        // Over 1 MiB in one frame, written in pieces.
        for (let i = 0; i < 20; i++) res.write(`data: ${'z'.repeat(64 * 1024)}\n`);
        res.end('\n');
        return;
      }
      if (req.url?.startsWith('/forever')) {
        res.write(': open\n\n');
        const t = setInterval(() => res.write('event: heartbeat\ndata: {"type":"heartbeat"}\n\n'), 20);
        res.on('close', () => clearInterval(t));
        return;
      }
      // Split one frame across writes with delays, to cross TCP reads.
      res.write('id: 1\nevent: run_upd');
      setTimeout(() => {
        res.write('ated\ndata: {"type":"run_updated",');
        setTimeout(
          () => res.end('"run":{"run_id":"r"}}\n\nevent: heartbeat\ndata: {"type":"heartbeat"}\n\n'),
          10,
        );
      }, 10);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(() => {
    // Idle keep-alive sockets from fetch would hold close() open for seconds.
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('yields frames split across writes, sends token, cursor and Last-Event-ID', async () => {
    const frames: SseFrame[] = [];
    for await (const f of streamEvents(`${base}/v1/events/stream?session_id=s`, {
      token: 't0k',
      cursor: '42',
      lastEventId: '41',
    })) {
      frames.push(f);
    }
    assert.deepEqual(frames, [
      { id: '1', event: 'run_updated', data: { type: 'run_updated', run: { run_id: 'r' } } },
      { event: 'heartbeat', data: { type: 'heartbeat' } },
    ]);
    assert.equal(lastHeaders.authorization, 'Bearer t0k');
    assert.equal(lastHeaders['last-event-id'], '41');
    assert.equal(lastHeaders.accept, 'text/event-stream');
    assert.equal(lastUrl, '/v1/events/stream?session_id=s&cursor=42');
  });

  test('an error status becomes a DaemonProblemError', async () => {
    await assert.rejects(
      async () => {
        for await (const _ of streamEvents(`${base}/missing`)) {
          // never reached
        }
      },
      (err: unknown) =>
        err instanceof DaemonProblemError && err.status === 404 && err.code === 'run_not_found',
    );
  });

  test('a frame over 1 MiB aborts the stream with SseFrameTooLargeError', async () => {
    await assert.rejects(async () => {
      for await (const _ of streamEvents(`${base}/huge`)) {
        // never reached
      }
    }, SseFrameTooLargeError);
  });

  test('aborting the signal ends the stream quietly', async () => {
    const ctrl = new AbortController();
    let count = 0;
    for await (const f of streamEvents(`${base}/forever`, { signal: ctrl.signal })) {
      assert.equal(f.event, 'heartbeat');
      if (++count === 2) ctrl.abort();
    }
    assert.equal(count, 2);
  });

  test('a closed port is DaemonUnreachableError', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    await assert.rejects(
      async () => {
        for await (const _ of streamEvents(`http://127.0.0.1:${port}/v1/events/stream`)) {
          // never reached
        }
      },
      (err: unknown) => err instanceof DaemonUnreachableError && err.errno === 'ECONNREFUSED',
    );
  });
});
