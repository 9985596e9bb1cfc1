// The SSE writer: replay from the durable log after a cursor, then live events without
// duplicates, heartbeats without ids, and stream_gap frames when history is gone.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DaemonError } from '../errors/daemon-error.ts';
import { type EventFilter, type EventLog, matchesFilter, rowIdOf, sseIdOf } from '../store/event-log.ts';
import { SseConnection, type StreamScope } from './sse-connection.ts';
import { frame, storedFrame } from './sse-frame.ts';

export { frame } from './sse-frame.ts';

/** Replay waits for the socket to drain past this, so a reader that keeps up is never cut. */
const REPLAY_HIGH_WATER_BYTES = 1024 * 1024;
/** Rows per replay query: big enough that query overhead vanishes, small enough not to stall the loop. */
const REPLAY_BATCH_ROWS = 2000;
/** Replay writes frames in chunks of about this size (one socket write each). */
const REPLAY_CHUNK_CHARS = 256 * 1024;

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

export async function serveStream(
  req: FastifyRequest,
  reply: FastifyReply,
  log: EventLog,
  filter: EventFilter,
): Promise<void> {
  const cursor = streamCursor(req);
  const scope: StreamScope =
    filter.run_id !== undefined ? 'run' : filter.session_id !== undefined ? 'session' : 'global';
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

  const conn = new SseConnection(res, log, scope, cursor ?? -1n);
  // Subscribed before the replay's upper bound is read: every event is either replayed or held.
  conn.onClose(
    log.subscribe((ev) => {
      if (matchesFilter(ev, filter)) conn.live(ev);
    }),
  );
  const close = () => conn.close();
  req.raw.on('close', close);
  res.on('close', close);

  try {
    if (cursor !== null) await replay(conn, log, filter, cursor, scope);
  } finally {
    conn.endReplay();
  }
}

/** Durable events after the cursor up to the newest one delivered live when the stream opened. */
async function replay(
  conn: SseConnection,
  log: EventLog,
  filter: EventFilter,
  cursor: bigint,
  scope: StreamScope,
): Promise<void> {
  const upto = log.newestRowId;
  let after = Math.min(rowIdOf(cursor), upto);
  if (rowIdOf(cursor) > upto) conn.lastSent = sseIdOf(upto);
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
    conn.enqueue(frame('stream_gap', data, resume > conn.lastSent ? resume : undefined));
    if (resume > conn.lastSent) conn.lastSent = resume;
    after = oldest - 1;
  }
  while (!conn.isClosed) {
    const rows = await log.readStored(after, upto, filter, REPLAY_BATCH_ROWS);
    // Rows at or below rowIdOf(lastSent) were already sent; lastSent (a BigInt) is brought up to
    // date before each write rather than per row.
    let lastRow = rowIdOf(conn.lastSent);
    const firstRow = lastRow;
    for (const row of rows) {
      if (row.rowId <= lastRow) continue;
      conn.enqueue(storedFrame(row));
      lastRow = row.rowId;
      log.counters.replayed++;
      if (conn.queuedChars >= REPLAY_CHUNK_CHARS) {
        conn.lastSent = sseIdOf(lastRow);
        await writeChunk(conn);
        if (conn.isClosed) return;
      }
    }
    if (lastRow !== firstRow) conn.lastSent = sseIdOf(lastRow);
    await writeChunk(conn);
    if (rows.length < REPLAY_BATCH_ROWS) break;
    after = rows[rows.length - 1]!.rowId;
  }
}

/**
 * Writes the queued frames now. Replay goes at the reader's pace: it waits for the socket to drain
 * instead of piling up (a reader that keeps up must never be cut off with a live_lag gap).
 */
async function writeChunk(conn: SseConnection): Promise<void> {
  conn.flush();
  if (conn.buffered > REPLAY_HIGH_WATER_BYTES && !conn.isClosed) await conn.drained();
}
