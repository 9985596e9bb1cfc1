// text/event-stream client: a byte-level parser (frames may split anywhere across chunks) and
// streamEvents(), which opens one stream and yields parsed frames until it ends or is aborted.
import {
  DaemonSchemaError,
  DaemonTimeoutError,
  DaemonUnreachableError,
  problemFromResponse,
  SseFrameTooLargeError,
} from './errors.ts';
import type { SseFrame } from './types.ts';

/** The CLI contract: abort when one frame exceeds 1 MiB (ops-runtime §2.2). */
export const MAX_SSE_FRAME_BYTES = 1024 * 1024;

const LF = 0x0a;
const CR = 0x0d;

export interface SseParserOptions {
  maxFrameBytes?: number;
}

/**
 * Incremental SSE parser (WHATWG rules: LF, CR or CRLF line ends; `:` comments; one optional space
 * after the colon; multi-line data joined by LF). Works on bytes so the frame size limit is exact
 * and a UTF-8 sequence split across chunks is never decoded in halves.
 */
export class SseParser {
  readonly maxFrameBytes: number;
  /** Last id seen on any frame, the value to reconnect with. */
  lastEventId: string | undefined;
  /** Reconnection delay the server asked for, when it sent a `retry:` field. */
  retryMs: number | undefined;
  private readonly decoder = new TextDecoder('utf-8');
  private partial: Uint8Array[] = [];
  private partialBytes = 0;
  private frameBytes = 0;
  private afterCR = false;
  private data: string[] = [];
  private event = '';
  private id: string | undefined;

  constructor(opts: SseParserOptions = {}) {
    this.maxFrameBytes = opts.maxFrameBytes ?? MAX_SSE_FRAME_BYTES;
  }

  push(chunk: Uint8Array): SseFrame[] {
    const frames: SseFrame[] = [];
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (this.afterCR) {
        this.afterCR = false;
        // The LF of a CRLF whose CR ended the previous line (maybe in the previous chunk).
        if (b === LF) {
          start = i + 1;
          continue;
        }
      }
      if (b !== LF && b !== CR) continue;
      const line = this.takeLine(chunk.subarray(start, i));
      this.afterCR = b === CR;
      start = i + 1;
      const frame = this.line(line);
      if (frame) frames.push(frame);
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      // Copy: the caller may reuse its buffer.
      this.partial.push(rest.slice());
      this.partialBytes += rest.length;
      this.checkSize();
    }
    return frames;
  }

  /** End of stream: a frame without its closing blank line is dropped, as browsers do. */
  end(): void {
    this.partial = [];
    this.partialBytes = 0;
    this.resetFrame();
  }

  private takeLine(tail: Uint8Array): string {
    this.frameBytes += tail.length + 1;
    if (this.partialBytes === 0) {
      this.checkSize();
      return this.decoder.decode(tail);
    }
    const buf = new Uint8Array(this.partialBytes + tail.length);
    let off = 0;
    for (const piece of this.partial) {
      buf.set(piece, off);
      off += piece.length;
    }
    buf.set(tail, off);
    this.frameBytes += this.partialBytes;
    this.partial = [];
    this.partialBytes = 0;
    this.checkSize();
    return this.decoder.decode(buf);
  }

  private checkSize(): void {
    if (this.frameBytes + this.partialBytes > this.maxFrameBytes) {
      throw new SseFrameTooLargeError(this.maxFrameBytes);
    }
  }

  private line(line: string): SseFrame | undefined {
    if (line === '') return this.dispatch();
    if (line.charCodeAt(0) === 0x3a) return undefined; // ':' comment, used as keepalive by some servers
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 0x20) value = value.slice(1);
    switch (field) {
      case 'data':
        this.data.push(value);
        break;
      case 'event':
        this.event = value;
        break;
      case 'id':
        if (!value.includes('\0')) {
          this.id = value;
          this.lastEventId = value;
        }
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retryMs = Number(value);
        break;
    }
    return undefined;
  }

  private dispatch(): SseFrame | undefined {
    let frame: SseFrame | undefined;
    if (this.data.length > 0) {
      const raw = this.data.join('\n');
      frame = { event: this.event || 'message', data: parseData(raw) };
      if (this.id !== undefined) frame.id = this.id;
    }
    this.resetFrame();
    return frame;
  }

  private resetFrame(): void {
    this.data = [];
    this.event = '';
    this.id = undefined;
    this.frameBytes = 0;
  }
}

function parseData(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    // The daemon always sends JSON; a foreign server may not. Hand the text through.
    return raw;
  }
}

/** Parses a byte stream into frames. */
export async function* parseSseStream(
  source: AsyncIterable<Uint8Array>,
  opts: SseParserOptions = {},
): AsyncGenerator<SseFrame, void, undefined> {
  const parser = new SseParser(opts);
  for await (const chunk of source) {
    for (const frame of parser.push(chunk)) yield frame;
  }
  parser.end();
}

export interface StreamEventsOptions {
  token?: string;
  /** Sent as `?cursor=`: replay events after this id. */
  cursor?: string;
  /** Sent as `Last-Event-ID`; the daemon uses the larger of the two. */
  lastEventId?: string;
  signal?: AbortSignal;
  maxFrameBytes?: number;
  /**
   * Give up when no byte arrives for this long. The daemon sends a heartbeat every ~10 s, so a
   * silent minute means a dead connection that TCP has not noticed yet.
   */
  idleTimeoutMs?: number;
  headers?: Record<string, string>;
  /** Called once the daemon answered 200 and before the first frame is read. */
  onOpen?: () => void | Promise<void>;
  /** The fetch to connect with; the global fetch by default. */
  fetch?: typeof fetch;
}

/**
 * Opens one SSE stream and yields its frames. Ends quietly when `signal` aborts or the server
 * closes the stream; throws DaemonProblemError for an error status, DaemonUnreachableError when
 * the connection fails or drops, DaemonTimeoutError when it goes silent, SseFrameTooLargeError.
 */
export async function* streamEvents(
  url: string | URL,
  opts: StreamEventsOptions = {},
): AsyncGenerator<SseFrame, void, undefined> {
  const target = new URL(url);
  if (opts.cursor !== undefined) target.searchParams.set('cursor', opts.cursor);
  const where = target.origin;
  const headers: Record<string, string> = { accept: 'text/event-stream', ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.lastEventId !== undefined) headers['last-event-id'] = opts.lastEventId;

  const ctrl = new AbortController();
  const onAbort = () => ctrl.abort(opts.signal?.reason);
  if (opts.signal?.aborted) return;
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  let idleFired = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    if (!opts.idleTimeoutMs) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      idleFired = true;
      ctrl.abort();
    }, opts.idleTimeoutMs);
  };
  const fail = (err: unknown, what: string): Error => {
    if (idleFired) return new DaemonTimeoutError(where, opts.idleTimeoutMs ?? 0);
    if (err instanceof SseFrameTooLargeError) return err;
    return new DaemonUnreachableError(where, err, what);
  };

  try {
    arm();
    let res: Response;
    try {
      const send = opts.fetch ?? globalThis.fetch;
      res = await send(target, { headers, signal: ctrl.signal });
    } catch (err) {
      if (opts.signal?.aborted) return;
      throw fail(err, 'cannot reach the daemon at');
    }
    if (!res.ok) throw await problemFromResponse(res);
    const type = res.headers.get('content-type') ?? '';
    if (!type.includes('text/event-stream') || !res.body) {
      await res.body?.cancel().catch(() => {});
      throw new DaemonSchemaError(
        target.pathname,
        `expected text/event-stream, got "${type || 'no content type'}"`,
      );
    }
    // Callers use this to close the gap between "fetched a snapshot" and "subscribed".
    await opts.onOpen?.();
    if (opts.signal?.aborted) return;
    const parser = new SseParser({ maxFrameBytes: opts.maxFrameBytes });
    const reader = res.body.getReader();
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (err) {
        if (opts.signal?.aborted) return;
        throw fail(err, 'lost the event stream from');
      }
      if (chunk.done) break;
      arm();
      let frames: SseFrame[];
      try {
        frames = parser.push(chunk.value);
      } catch (err) {
        throw fail(err, 'bad event stream from');
      }
      for (const frame of frames) {
        yield frame;
        if (opts.signal?.aborted) return;
      }
    }
    parser.end();
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
    // Releases the socket when the consumer stops early (break/return in for-await).
    ctrl.abort();
  }
}
