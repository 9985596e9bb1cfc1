// SSE fan-out and replay (issue 10 item 6): a durable event is serialized once, when it is stored,
// and every subscriber and every replay gets the same bytes; a live-only frame is rendered once for
// all subscribers; replay in big batches hands over to live with no duplicate and no gap.
// Real components: a SQLite store, the event log, Fastify on loopback, raw HTTP readers.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { type ClientRequest, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import Fastify, { type FastifyInstance } from 'fastify';
import { serveStream } from '../../src/http/sse.ts';
import { frame, frameFromJson } from '../../src/http/sse-frame.ts';
import { EVENT_NAMES, type EventInput, EventLog, payloadJson } from '../../src/store/event-log.ts';
import { Store } from '../../src/store/store.ts';
import { tempDir } from '../helpers/daemon.ts';

interface RawReader {
  /** Complete frames received so far, byte for byte (each ends with a blank line). */
  frames: string[];
  waitFor(pred: (frames: string[]) => boolean, what: string, ms?: number): Promise<void>;
  close(): void;
}

function openRaw(url: string, headers: Record<string, string> = {}): RawReader {
  const frames: string[] = [];
  let buf = '';
  let req: ClientRequest | undefined;
  req = request(url, { headers: { accept: 'text/event-stream', ...headers }, agent: false }, (res) => {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buf += chunk;
      for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
        frames.push(buf.slice(0, i + 2));
        buf = buf.slice(i + 2);
      }
    });
  });
  req.on('error', () => undefined);
  req.end();
  return {
    frames,
    async waitFor(pred, what, ms = 10_000) {
      const end = Date.now() + ms;
      while (!pred(frames)) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what} (${frames.length} frames)`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    close: () => req?.destroy(),
  };
}

const idOf = (f: string): string | undefined => /^id: (\d+)\n/.exec(f)?.[1];
const durable = (fs: string[]) => fs.filter((f) => idOf(f) !== undefined);

let dir: string;
let store: Store;
let log: EventLog;
let app: FastifyInstance;
let base: string;
const readers: RawReader[] = [];

function open(path: string, headers: Record<string, string> = {}): RawReader {
  const r = openRaw(base + path, headers);
  readers.push(r);
  return r;
}

async function waitSubscribers(n: number): Promise<void> {
  const end = Date.now() + 10_000;
  while (log.subscriberCount !== n) {
    if (Date.now() > end) throw new Error(`${log.subscriberCount} subscribers, not ${n}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const append = (inputs: EventInput[]) => store.write((tx) => log.append(tx, inputs));

before(async () => {
  dir = tempDir('kheish-sse-fanout-');
  store = await Store.open({ stateRoot: dir });
  log = new EventLog(store, 100_000);
  await log.init();
  app = Fastify();
  app.get('/stream', (req, reply) => serveStream(req, reply, log, {}));
  app.get<{ Params: { id: string } }>('/sessions/:id/stream', (req, reply) =>
    serveStream(req, reply, log, { session_id: req.params.id }),
  );
  app.get<{ Params: { id: string } }>('/runs/:id/stream', (req, reply) =>
    serveStream(req, reply, log, { run_id: req.params.id }),
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});

after(async () => {
  for (const r of readers) r.close();
  await app?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a durable event is serialized once for all subscribers, and replay sends the same bytes', async () => {
  const n = 25;
  const subs = Array.from({ length: n }, () => open('/stream'));
  await waitSubscribers(n);
  let serializations = 0;
  const probe = {
    toJSON() {
      serializations++;
      return 'probe-value';
    },
  };
  await append([{ name: 'trace', session_id: 's-1', data: { trace: { kind: 'probe', probe } } }]);
  const has = (fs: string[]) => fs.some((f) => f.includes('probe-value'));
  await Promise.all(subs.map((s) => s.waitFor(has, 'the probe frame')));
  assert.equal(serializations, 1, 'stored once, rendered from the stored text, never re-serialized');
  const live = subs.map((s) => s.frames.find((f) => f.includes('probe-value'))!);
  assert.equal(new Set(live).size, 1, 'every subscriber got the same bytes');
  const id = idOf(live[0]!)!;
  assert.match(live[0]!, /^id: \d+\nevent: trace\ndata: \{"type":"trace","trace":\{"kind":"probe"/);

  for (const path of ['/stream', '/sessions/s-1/stream']) {
    const replay = open(path, { 'last-event-id': '0' });
    await replay.waitFor((fs) => fs.some((f) => idOf(f) === id), `replay of ${id} on ${path}`);
    assert.equal(
      replay.frames.find((f) => idOf(f) === id),
      live[0],
      `${path}: replay equals live`,
    );
    replay.close();
  }
  assert.equal(serializations, 1);
  for (const s of subs) s.close();
  await waitSubscribers(0);
});

test('a live-only frame is rendered once for all subscribers', async () => {
  const n = 25;
  const subs = Array.from({ length: n }, () => open('/runs/r-live/stream'));
  await waitSubscribers(n);
  let renders = 0;
  const probe = {
    toJSON() {
      renders++;
      return 'delta-probe';
    },
  };
  log.publishLive({ name: 'trace', run_id: 'r-live', data: { trace: { kind: 'text_delta', probe } } });
  const has = (fs: string[]) => fs.some((f) => f.includes('delta-probe'));
  await Promise.all(subs.map((s) => s.waitFor(has, 'the delta frame')));
  assert.equal(renders, 1);
  assert.equal(new Set(subs.map((s) => s.frames.find((f) => f.includes('delta-probe')))).size, 1);
  for (const s of subs) s.close();
  await waitSubscribers(0);
});

test('replay over several batches hands over to live events with no duplicate and no gap', async () => {
  // More rows than one replay batch, in a few commits, mixed with other sessions' and runs' rows.
  const firstId = BigInt(log.newestRowId + 1) << 20n;
  for (let c = 0; c < 5; c++)
    await append(
      Array.from({ length: 1000 }, (_, i): EventInput => {
        const k = c * 1000 + i;
        return k % 5 === 4
          ? { name: 'runtime_updated', data: { runtime: { k } } }
          : {
              name: k % 2 ? 'run_updated' : 'session_state_changed',
              session_id: `s-${k % 3}`,
              run_id: `r-${k % 3}`,
              data: { k },
            };
      }),
    );
  const global = open('/stream', { 'last-event-id': String(firstId - 1n) });
  const session = open('/sessions/s-1/stream', { 'last-event-id': String(firstId - 1n) });
  const run = open('/runs/r-1/stream', { 'last-event-id': String(firstId - 1n) });
  // Live events committed once the replays have started (held during replay, then sent).
  for (const r of [global, session, run]) await r.waitFor((fs) => fs.length > 0, 'the replay to start');
  for (let k = 5000; k < 5200; k++)
    await append([{ name: 'run_updated', session_id: `s-${k % 3}`, run_id: `r-${k % 3}`, data: { k } }]);
  const ks = (fs: string[]) => durable(fs).map((f) => Number(/"k":(\d+)/.exec(f)?.[1]));
  const all = Array.from({ length: 5200 }, (_, k) => k);
  await global.waitFor((fs) => ks(fs).length >= all.length, 'the global replay');
  await session.waitFor((fs) => ks(fs).includes(5197), 'the session replay');
  await run.waitFor((fs) => ks(fs).includes(5197), 'the run replay');
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(ks(global.frames), all);
  assert.deepEqual(
    ks(session.frames),
    all.filter((k) => k % 3 === 1 && (k >= 5000 || k % 5 !== 4)),
  );
  assert.deepEqual(
    ks(run.frames),
    all.filter((k) => k % 3 === 1 && (k >= 5000 || (k % 5 !== 4 && k % 2 === 1))),
  );
  for (const r of [global, session, run]) {
    const ids = durable(r.frames).map((f) => BigInt(idOf(f)!));
    assert.ok(
      ids.every((id, i) => i === 0 || id > ids[i - 1]!),
      'ids strictly increase',
    );
    r.close();
  }
});

test('a frame spliced from the stored text is the frame of the payload', () => {
  const id = 7n << 20n;
  const dataOf = (f: string) => JSON.parse(/\ndata: (.*)\n\n$/.exec(f)![1]!);
  fc.assert(
    fc.property(
      fc.constantFrom(...EVENT_NAMES),
      fc.dictionary(fc.oneof(fc.string(), fc.constant('type')), fc.jsonValue()),
      (name, data) => {
        const spliced = frameFromJson(name, payloadJson(data), `id: ${id}\n`);
        const reference = frame(name, data, id);
        assert.deepEqual(dataOf(spliced), dataOf(reference));
        assert.equal(
          spliced.slice(0, spliced.indexOf('data: ')),
          reference.slice(0, reference.indexOf('data: ')),
        );
        // Byte for byte too, unless JSON.stringify moved integer-like keys before `type`.
        if (!Object.keys(data).some((k) => /^(0|[1-9]\d*)$/.test(k))) assert.equal(spliced, reference);
      },
    ),
    { numRuns: 500 },
  );
});
