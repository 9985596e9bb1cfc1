// The SSE writer: replay from the durable log after a cursor, then live events without
// duplicates, heartbeats without ids, and stream_gap frames when history is gone.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DaemonError } from '../errors/daemon-error.ts';
import {
  type BusEvent,
  type EventFilter,
  type EventLog,
  matchesFilter,
  rowIdOf,
  sseIdOf,
} from '../store/event-log.ts';

const HEARTBEAT_MS = Number(process.env.KHEISH_SSE_HEARTBEAT_MS ?? 10_000);
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
const REPLAY_HIGH_WATER_BYTES = 1024 * 1024;

function parseCursorValue(raw: string | undefined, source: string): bigint | null {
  if (raw === undefined || raw === '') return null;
  if (!/^\d{1,20}$/.test(raw.trim()) || BigInt(raw.trim()) > 0xffffffffffffffffn) {
    throw new DaemonError(
      400,
      'events',
      'invalid_event_cursor',
      `${source} must be a decimal event id (got "${raw}")`,
    );
  }
  return BigInt(raw.trim());
}

/** The larger of Last-Event-ID and ?cursor wins, so a stale query string cannot rewind a reconnect. */
export function streamCursor(req: FastifyRequest): bigint | null {
  const q = (req.query ?? {}) as { cursor?: string | string[] };
  if (Array.isArray(q.cursor))
    throw new DaemonError(
      400,
      'events',
      'invalid_event_cursor',
      'give one cursor query parameter, not several',
    );
  const header = req.headers['last-event-id'];
  const a = parseCursorValue(Array.isArray(header) ? header[0] : header, 'Last-Event-ID');
  const b = parseCursorValue(q.cursor as string | undefined, 'cursor');
  if (a === null) return b;
  if (b === null) return a;
  // biome-ignore lint/complexity/useMathMinMax: bigints; Math.max would throw
  return a > b ? a : b;
}

export const frame = (name: string, data: Record<string, unknown>, id?: bigint): string =>
  `${id === undefined ? '' : `id: ${id}\n`}event: ${name}\ndata: ${JSON.stringify({ type: name, ...data })}\n\n`;

export async function serveStream(
  req: FastifyRequest,
  reply: FastifyReply,
  log: EventLog,
  filter: EventFilter,
): Promise<void> {
  const cursor = streamCursor(req);
  const scope = filter.run_id !== undefined ? 'run' : filter.session_id !== undefined ? 'session' : 'global';
  const headers: Record<string, string> = {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  };
  for (const [k, v] of Object.entries(reply.getHeaders())) if (typeof v === 'string') headers[k] = v;
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, headers);
  res.flushHeaders?.();

  let closed = false;
  let lastSent = cursor ?? -1n;
  let pending: BusEvent[] | null = [];
  const write = (chunk: string) => {
    if (closed) return;
    res.write(chunk);
    if (res.writableLength > MAX_BUFFERED_BYTES) {
      // A consumer this slow would make us buffer without bound: tell it, and let it reconnect.
      log.counters.lagged++;
      res.end(
        frame('stream_gap', {
          skipped: 0,
          reason: 'live_lag',
          scope,
          skipped_is_estimate: true,
          resume_after_id: String(lastSent),
        }),
      );
      cleanup();
    }
  };
  const send = (ev: BusEvent) => {
    if (ev.id <= lastSent) return;
    lastSent = ev.id;
    write(frame(ev.name, ev.data, ev.id));
  };
  const unsubscribe = log.subscribe((ev) => {
    if (!matchesFilter(ev, filter)) return;
    if (pending) pending.push(ev);
    else send(ev);
  });
  const heartbeat = setInterval(() => write(frame('heartbeat', {})), HEARTBEAT_MS);
  const cleanup = () => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    unsubscribe();
  };
  req.raw.on('close', cleanup);
  res.on('close', cleanup);

  try {
    if (cursor !== null) {
      const upto = log.newestRowId;
      let after = Math.min(rowIdOf(cursor), upto);
      if (rowIdOf(cursor) > upto) lastSent = sseIdOf(upto);
      const oldest = await log.oldestRowId();
      if (after < oldest - 1) {
        const skipped = oldest - 1 - after;
        log.counters.replay_gaps++;
        const resume = sseIdOf(oldest - 1);
        const data = {
          skipped,
          reason: 'replay_window',
          scope,
          skipped_is_estimate: scope !== 'global',
          resume_after_id: String(resume),
        };
        write(frame('stream_gap', data, resume > lastSent ? resume : undefined));
        if (resume > lastSent) lastSent = resume;
        after = oldest - 1;
      }
      for (;;) {
        if (closed) break;
        const batch = await log.readRange(after, upto, filter);
        for (const ev of batch.events) send(ev);
        log.counters.replayed += batch.events.length;
        // Replay goes at the reader's pace: wait for the socket to drain instead of piling up
        // (a reader that keeps up must never be cut off with a live_lag gap).
        if (res.writableLength > REPLAY_HIGH_WATER_BYTES && !closed)
          await new Promise<void>((resolve) => {
            res.once('drain', resolve);
            res.once('close', resolve);
          });
        if (batch.lastScanned === null) break;
        after = batch.lastScanned;
      }
    }
  } finally {
    const buffered = pending ?? [];
    pending = null;
    for (const ev of buffered) send(ev);
  }
}
