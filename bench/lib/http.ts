// The load side of the benchmarks: JSON requests over fetch (keep-alive) and a light SSE client
// on node:http that stamps every frame with its receive time. Only loopback URLs are used.
import { type ClientRequest, request } from 'node:http';
import { wallMs } from './stats.ts';

export interface ApiResult<T = any> {
  status: number;
  body: T;
  text: string;
}

export async function api<T = any>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<ApiResult<T>> {
  const init: RequestInit = { method, headers: { ...headers }, signal: AbortSignal.timeout(timeoutMs) };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  let res: Response;
  let text: string;
  try {
    res = await fetch(base + path, init);
    text = await res.text();
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(
      `${method} ${path}: ${(err as Error).message} (${cause?.code ?? ''} ${cause?.message ?? ''})`,
    );
  }
  const json = (res.headers.get('content-type') ?? '').includes('json') && text !== '';
  return { status: res.status, body: (json ? JSON.parse(text) : text) as T, text };
}

export async function mustApi<T = any>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  expect = [200, 201, 202],
): Promise<T> {
  const res = await api<T>(base, method, path, body);
  if (!expect.includes(res.status)) throw new Error(`${method} ${path} → ${res.status}: ${res.text}`);
  return res.body;
}

export interface RawFrame {
  id?: string;
  event: string;
  /** The data line(s), unparsed: parsing is left to the consumer that needs it. */
  data: string;
  /** Wall-clock receive time (ms, sub-ms resolution). */
  recvMs: number;
}

export interface SseConnection {
  status: Promise<number>;
  /** Resolves when the stream ends for any reason. */
  ended: Promise<void>;
  close(): void;
}

/** Opens an SSE stream; `onFrame` sees every frame as soon as its chunk is parsed. */
export function openSse(
  url: string,
  onFrame: (f: RawFrame) => void,
  headers: Record<string, string> = {},
): SseConnection {
  let req: ClientRequest;
  let resolveStatus!: (s: number) => void;
  const status = new Promise<number>((r) => {
    resolveStatus = r;
  });
  const ended = new Promise<void>((resolveEnded) => {
    req = request(url, { headers: { accept: 'text/event-stream', ...headers }, agent: false }, (res) => {
      resolveStatus(res.statusCode ?? 0);
      res.setEncoding('utf8');
      let buf = '';
      res.on('data', (chunk: string) => {
        const recvMs = wallMs();
        buf += chunk;
        for (let idx = buf.indexOf('\n\n'); idx >= 0; idx = buf.indexOf('\n\n')) {
          const block = buf.slice(0, idx);
          buf = buf.slice(idx + 2);
          const f: RawFrame = { event: 'message', data: '', recvMs };
          for (const line of block.split('\n')) {
            if (line.startsWith('id: ')) f.id = line.slice(4);
            else if (line.startsWith('event: ')) f.event = line.slice(7);
            else if (line.startsWith('data: ')) f.data += line.slice(6);
          }
          onFrame(f);
        }
      });
      res.on('end', () => resolveEnded());
      res.on('close', () => resolveEnded());
      res.on('error', () => resolveEnded());
    });
    req.on('error', () => {
      resolveStatus(0);
      resolveEnded();
    });
    req.end();
  });
  return { status, ended, close: () => req.destroy() };
}

/** Reads the newest durable event id from /v1/status (the cursor a fresh client would start from). */
export async function tailCursor(base: string): Promise<string> {
  const status = await mustApi(base, 'GET', '/v1/status');
  return String(status.events.tail_event_id_cursor ?? '0');
}
