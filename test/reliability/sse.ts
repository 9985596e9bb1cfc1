// SSE clients for the reliability harness, on node:http (one socket each, cheap enough for a
// thousand): a bounded reader for replays, and a client that keeps reconnecting with
// Last-Event-ID like a real one and records every frame it was given.
import { type ClientRequest, request } from 'node:http';
import type { SseFrame } from '../helpers/daemon.ts';

export interface SseHandle {
  status: Promise<number>;
  ended: Promise<void>;
  close(): void;
}

export function connectSse(
  url: string,
  onFrame: (f: SseFrame) => void,
  headers: Record<string, string> = {},
): SseHandle {
  let req!: ClientRequest;
  let setStatus!: (s: number) => void;
  const status = new Promise<number>((r) => {
    setStatus = r;
  });
  const ended = new Promise<void>((done) => {
    req = request(url, { headers: { accept: 'text/event-stream', ...headers }, agent: false }, (res) => {
      setStatus(res.statusCode ?? 0);
      res.setEncoding('utf8');
      let buf = '';
      res.on('data', (chunk: string) => {
        buf += chunk;
        for (let idx = buf.indexOf('\n\n'); idx >= 0; idx = buf.indexOf('\n\n')) {
          const block = buf.slice(0, idx);
          buf = buf.slice(idx + 2);
          const f: SseFrame = { event: 'message', data: null };
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('id: ')) f.id = line.slice(4);
            else if (line.startsWith('event: ')) f.event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          f.data = data.length ? JSON.parse(data.join('\n')) : null;
          onFrame(f);
        }
      });
      res.on('close', () => done());
      res.on('error', () => done());
    });
    req.on('error', () => {
      setStatus(0);
      done();
    });
    req.end();
  });
  return { status, ended, close: () => req.destroy() };
}

/** Reads a stream until a frame with id ≥ `untilId` arrived (or at once when untilId is 0). */
export async function readSse(
  url: string,
  opts: { untilId: bigint; timeoutMs: number; headers?: Record<string, string> },
): Promise<{ status: number; frames: SseFrame[] }> {
  const frames: SseFrame[] = [];
  let handle!: SseHandle;
  handle = connectSse(
    url,
    (f) => {
      frames.push(f);
      if (f.id !== undefined && BigInt(f.id) >= opts.untilId) handle.close();
    },
    opts.headers,
  );
  const status = await handle.status;
  if (status !== 200 || opts.untilId === 0n) {
    handle.close();
    return { status, frames };
  }
  const timer = setTimeout(() => handle.close(), opts.timeoutMs);
  await handle.ended;
  clearTimeout(timer);
  const last = frames.filter((f) => f.id !== undefined).at(-1);
  if (!last || BigInt(last.id!) < opts.untilId)
    throw new Error(
      `SSE ${url} stopped at ${last?.id ?? 'nothing'} before ${opts.untilId} (${frames.length} frames)`,
    );
  return { status, frames };
}

/**
 * A client that drops its connection now and then and comes back with Last-Event-ID, as browsers
 * do. `frames` holds every frame with an id it was ever given, in arrival order, across reconnects.
 */
export class ReconnectingClient {
  readonly frames: SseFrame[] = [];
  reconnects = 0;
  /** Answers other than 200 (a connection dropped before its answer is only a reconnect). */
  readonly errors: string[] = [];
  private handle: SseHandle | null = null;
  private lastId: string | null;
  private stopped = false;
  private loop: Promise<void> | null = null;
  private readonly url: string;

  constructor(url: string, startCursor: string | null) {
    this.url = url;
    this.lastId = startCursor;
  }

  start(): void {
    this.loop = (async () => {
      while (!this.stopped) {
        const headers: Record<string, string> = this.lastId === null ? {} : { 'last-event-id': this.lastId };
        this.handle = connectSse(
          this.url,
          (f) => {
            if (f.id === undefined) return;
            this.frames.push(f);
            this.lastId = f.id;
          },
          headers,
        );
        const status = await this.handle.status;
        if (status !== 200 && status !== 0 && !this.stopped) {
          this.errors.push(`reconnect with Last-Event-ID ${this.lastId} answered ${status}`);
          return;
        }
        await this.handle.ended;
        if (!this.stopped) {
          this.reconnects++;
          await new Promise((r) => setTimeout(r, 5));
        }
      }
    })();
  }

  /** Drops the current connection; the loop reconnects from the last id seen. */
  drop(): void {
    this.handle?.close();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.handle?.close();
    await this.loop;
  }

  get lastSeen(): string | null {
    return this.lastId;
  }
}
