// One open SSE response and the shared machinery of all of them. Per event, a subscriber only
// appends the event's shared frame text to its outbox; outboxes are written once per tick (the
// several events a commit publishes reach a socket in one write, not one write each), subscribers
// whose outbox holds the same frames (same stream) write the same bytes, encoded once, and one
// timer sends the heartbeats of every connection instead of one timer per connection.
import type { ServerResponse } from 'node:http';
import type { BusEvent, EventLog } from '../store/event-log.ts';
import { eventFrame, frame, HEARTBEAT_FRAME } from './sse-frame.ts';

const HEARTBEAT_MS = Number(process.env.KHEISH_SSE_HEARTBEAT_MS ?? 10_000);
/** A reader this far behind is cut with stream_gap (live_lag) rather than buffered without bound. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

let dirty = new Set<SseConnection>();
let flushScheduled = false;

/** The bytes of the last outbox written in this flush round, for the next identical outbox. */
export interface EncodedOutbox {
  frames: readonly string[];
  bytes: Buffer;
}

function flushAll(): void {
  flushScheduled = false;
  const batch = dirty;
  dirty = new Set();
  // Connections are flushed in subscription order, so those of one stream come one after another.
  const memo: { last: EncodedOutbox | null } = { last: null };
  for (const c of batch) c.flush(memo);
}

function sameFrames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  // Identity, not content: frames of one event are one shared string.
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const open = new Set<SseConnection>();
let heartbeatTimer: NodeJS.Timeout | null = null;

function heartbeatAll(): void {
  for (const c of open) c.enqueue(HEARTBEAT_FRAME);
}

export type StreamScope = 'global' | 'session' | 'run';

export class SseConnection {
  /** The id of the last event queued; nothing at or below it is sent again. */
  lastSent: bigint;
  /** Live events that arrive during replay wait here, then go out after it (dedup by id). */
  private pending: BusEvent[] | null = [];
  private outbox: string[] = [];
  private outboxChars = 0;
  private closed = false;
  private readonly res: ServerResponse;
  private readonly log: EventLog;
  private readonly scope: StreamScope;
  private readonly disposers: Array<() => void> = [];

  constructor(res: ServerResponse, log: EventLog, scope: StreamScope, lastSent: bigint) {
    this.res = res;
    this.log = log;
    this.scope = scope;
    this.lastSent = lastSent;
    open.add(this);
    if (heartbeatTimer === null) {
      heartbeatTimer = setInterval(heartbeatAll, HEARTBEAT_MS);
      heartbeatTimer.unref();
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Characters queued and not yet handed to the socket. */
  get queuedChars(): number {
    return this.outboxChars;
  }

  /** Bytes handed to the socket and not yet sent. */
  get buffered(): number {
    return this.res.writableLength;
  }

  /** Runs once when the connection closes (e.g. unsubscribing from the log). */
  onClose(fn: () => void): void {
    if (this.closed) fn();
    else this.disposers.push(fn);
  }

  /** A live event that matched this stream's filter. */
  live(ev: BusEvent): void {
    if (this.pending) this.pending.push(ev);
    else this.send(ev);
  }

  /** Ends replay mode: the live events held meanwhile go out, minus those replay already sent. */
  endReplay(): void {
    const held = this.pending ?? [];
    this.pending = null;
    for (const ev of held) this.send(ev);
  }

  private send(ev: BusEvent): void {
    if (ev.id <= this.lastSent) return;
    this.lastSent = ev.id;
    this.enqueue(eventFrame(ev));
  }

  /** Queues frame text for this tick's write. */
  enqueue(text: string): void {
    if (this.closed) return;
    this.outbox.push(text);
    this.outboxChars += text.length;
    dirty.add(this);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flushAll);
    }
  }

  /**
   * Writes what is queued now. Replay calls it for each chunk (in order after anything queued);
   * the tick's flush passes `memo`, so an outbox equal to the previous connection's reuses its bytes.
   */
  flush(memo?: { last: EncodedOutbox | null }): void {
    if (this.closed || this.outbox.length === 0) return;
    const frames = this.outbox;
    this.outbox = [];
    this.outboxChars = 0;
    dirty.delete(this);
    if (memo === undefined) {
      this.res.write(frames.length === 1 ? frames[0]! : frames.join(''));
    } else {
      if (memo.last === null || !sameFrames(memo.last.frames, frames))
        memo.last = { frames, bytes: Buffer.from(frames.length === 1 ? frames[0]! : frames.join('')) };
      this.res.write(memo.last.bytes);
    }
    if (this.res.writableLength > MAX_BUFFERED_BYTES) {
      // A consumer this slow would make us buffer without bound: tell it, and let it reconnect.
      this.log.counters.lagged++;
      this.res.end(
        frame('stream_gap', {
          skipped: 0,
          reason: 'live_lag',
          scope: this.scope,
          skipped_is_estimate: true,
          resume_after_id: String(this.lastSent),
        }),
      );
      this.close();
    }
  }

  /** Resolves when the socket has drained or the connection is gone. */
  drained(): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.closed) return resolve();
      const done = () => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.on('drain', done);
      this.res.on('close', done);
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.outbox = [];
    this.outboxChars = 0;
    dirty.delete(this);
    open.delete(this);
    if (open.size === 0 && heartbeatTimer !== null) {
      clearInterval(heartbeatTimer);
      heartbeatTimer = null;
    }
    for (const fn of this.disposers.splice(0)) fn();
  }
}
