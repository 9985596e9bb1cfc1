// The output of a background shell task kept in the database (PostgreSQL replicas), so every
// replica reads it through the API, not only the one running the command. Same cap semantics as
// the rotating file (tools/shell/rotating-log.ts): past the cap the newest half is kept behind the
// one-line marker, which is rebuilt on read from the blob's counters. The command's output is
// buffered briefly and flushed in the store's group commit (one write per FLUSH_MS at most, or
// sooner once a chunk is full), so a chatty command costs a few writes a second, not one per line.
import {
  BLOB_CHUNK_MAX_BYTES,
  type BlobHead,
  blobChunksIn,
  deleteBlobChunk,
  dropBlobChunksBefore,
  firstBlobChunk,
  getBlobHead,
  insertBlobChunk,
  lastBlobChunk,
  onBlobSnapshot,
  replaceBlobChunk,
  saveBlobHead,
} from '../../store/repos/blobs.ts';
import type { Db, Executor } from '../../store/schema.ts';
import type { Store } from '../../store/store.ts';
import { utf8SafeStart } from '../../tools/shell/capped-output.ts';
import { type AppendLog, type LogState, rotationMarker } from '../../tools/shell/rotating-log.ts';

/** How long output may wait in memory before it is written. */
const FLUSH_MS = 250;
/** A flush that fails (database unreachable) is retried this many times, then its bytes are dropped. */
const MAX_FLUSH_FAILURES = 20;
const RETRY_MS = 500;
/** The file log's floor, kept for the same behaviour. */
const MIN_CAP = 1024;

const EMPTY: LogState = { size_bytes: 0, total_bytes: 0, rotation_count: 0, rotated: false };

const markerOf = (h: BlobHead): Buffer =>
  h.rotation_count > 0 ? Buffer.from(rotationMarker(h.rotation_count, h.discarded_bytes)) : Buffer.alloc(0);

export function stateOfHead(h: BlobHead | undefined): LogState {
  if (!h) return EMPTY;
  return {
    size_bytes: markerOf(h).length + h.total_bytes - h.discarded_bytes,
    total_bytes: h.total_bytes,
    rotation_count: h.rotation_count,
    rotated: h.rotation_count > 0,
  };
}

/**
 * Appends `block`, the bytes that end at offset `end` of everything written (bytes before it that
 * never reached the database are a gap the rotation covers), then rotates past `cap`.
 */
export async function appendToBlob(
  db: Executor,
  blobId: string,
  block: Buffer,
  end: number,
  cap: number,
  now: number,
): Promise<LogState> {
  const head: BlobHead = (await getBlobHead(db, blobId)) ?? {
    blob_id: blobId,
    total_bytes: 0,
    discarded_bytes: 0,
    rotation_count: 0,
    updated_at_ms: now,
  };
  const start = end - block.length;
  let off = 0;
  const last = await lastBlobChunk(db, blobId);
  // Small flushes grow the newest chunk instead of adding rows of a few bytes each.
  if (last && last.start_byte + last.data.length === start && last.data.length < BLOB_CHUNK_MAX_BYTES) {
    const take = block.subarray(0, BLOB_CHUNK_MAX_BYTES - last.data.length);
    await replaceBlobChunk(db, blobId, last.start_byte, {
      start_byte: last.start_byte,
      data: Buffer.concat([last.data, take]),
    });
    off = take.length;
  }
  while (off < block.length) {
    const piece = block.subarray(off, off + BLOB_CHUNK_MAX_BYTES);
    await insertBlobChunk(db, blobId, { start_byte: start + off, data: piece });
    off += piece.length;
  }
  head.total_bytes = end;
  if (markerOf(head).length + end - head.discarded_bytes > Math.max(MIN_CAP, cap))
    await rotate(db, head, end - Math.floor(Math.max(MIN_CAP, cap) / 2));
  head.updated_at_ms = now;
  await saveBlobHead(db, head);
  return stateOfHead(head);
}

/** Keeps the bytes from `cut` on (never starting inside a UTF-8 sequence). */
async function rotate(db: Executor, head: BlobHead, cut: number): Promise<void> {
  await dropBlobChunksBefore(db, head.blob_id, cut);
  const first = await firstBlobChunk(db, head.blob_id);
  let discarded = cut;
  if (first) {
    const from = Math.max(cut, first.start_byte);
    const rest = first.data.subarray(from - first.start_byte);
    const safe = utf8SafeStart(rest);
    discarded = from + safe;
    if (discarded !== first.start_byte) {
      if (rest.length > safe)
        await replaceBlobChunk(db, head.blob_id, first.start_byte, {
          start_byte: discarded,
          data: rest.subarray(safe),
        });
      else await deleteBlobChunk(db, head.blob_id, first.start_byte);
    }
  }
  head.discarded_bytes = discarded;
  head.rotation_count += 1;
}

export interface OutputRead {
  state: LogState;
  /** The last `tail` bytes of the body (marker included when it is that short). */
  tail: Buffer;
  /** The whole retained body, when asked for. */
  full: Buffer | null;
}

/** Reads a blob as the file would read: marker + retained bytes, on one snapshot. */
export function readBlobOutput(db: Db, blobId: string, tail: number, full: boolean): Promise<OutputRead> {
  return onBlobSnapshot(db, async (q) => {
    const head = await getBlobHead(q, blobId);
    if (!head) return { state: EMPTY, tail: Buffer.alloc(0), full: full ? Buffer.alloc(0) : null };
    const marker = markerOf(head);
    const state = stateOfHead(head);
    const range = async (start: number, length: number): Promise<Buffer> => {
      const parts: Buffer[] = [];
      if (start < marker.length) parts.push(marker.subarray(start, Math.min(marker.length, start + length)));
      const from = head.discarded_bytes + Math.max(0, start - marker.length);
      const to = head.discarded_bytes + (start + length - marker.length);
      for (const c of await blobChunksIn(q, blobId, from, to))
        parts.push(
          c.data.subarray(Math.max(0, from - c.start_byte), Math.min(c.data.length, to - c.start_byte)),
        );
      return Buffer.concat(parts);
    };
    const want = Math.min(tail, state.size_bytes);
    return {
      state,
      tail: want > 0 ? await range(state.size_bytes - want, want) : Buffer.alloc(0),
      full: full ? await range(0, state.size_bytes) : null,
    };
  });
}

/** The writer side: output buffered in memory, flushed by the store's group commit. */
export class DatabaseLog implements AppendLog {
  private readonly store: Store;
  private readonly blobId: string;
  private readonly cap: number;
  private readonly warn: (o: object, m: string) => void;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes appended in all, written or not. */
  private observed = 0;
  private written: LogState = EMPTY;
  private timer: NodeJS.Timeout | null = null;
  private loop: Promise<void> | null = null;

  constructor(store: Store, blobId: string, cap: number, warn: (o: object, m: string) => void) {
    this.store = store;
    this.blobId = blobId;
    this.cap = Math.max(MIN_CAP, Math.floor(cap));
    this.warn = warn;
  }

  append(chunk: Buffer): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    this.observed += chunk.length;
    // More than the cap waiting (a slow database): the older part would be rotated out anyway.
    if (this.pendingBytes > this.cap) this.keepNewest(this.cap);
    if (this.pendingBytes >= BLOB_CHUNK_MAX_BYTES) this.kick();
    else if (!this.timer && !this.loop) {
      this.timer = setTimeout(() => this.kick(), FLUSH_MS);
      this.timer.unref();
    }
  }

  /** As of the last flush (readers compute the state from the database). */
  state(): LogState {
    return this.written;
  }

  close(): void {
    this.kick();
  }

  /** Resolves once everything appended so far is in the database (or given up on). */
  async flushed(): Promise<void> {
    while (this.loop || this.pendingBytes > 0) {
      this.kick();
      await this.loop;
    }
  }

  private keepNewest(bytes: number): void {
    const all = Buffer.concat(this.pending);
    const kept = all.subarray(all.length - bytes);
    this.pending = [kept];
    this.pendingBytes = kept.length;
  }

  private kick(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.loop ??= this.run().finally(() => {
      this.loop = null;
      if (this.pendingBytes > 0) this.kick();
    });
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.pendingBytes > 0) {
      const block = Buffer.concat(this.pending);
      const end = this.observed;
      this.pending = [];
      this.pendingBytes = 0;
      try {
        this.written = await this.store.write((tx) =>
          appendToBlob(tx.db, this.blobId, block, end, this.cap, tx.now),
        );
        failures = 0;
      } catch (err) {
        failures += 1;
        if (failures >= MAX_FLUSH_FAILURES) {
          this.warn(
            { blob_id: this.blobId, bytes: block.length + this.pendingBytes, err: String(err) },
            'task output could not be written to the database; these bytes are lost',
          );
          this.pending = [];
          this.pendingBytes = 0;
          return;
        }
        // Back in front of what arrived meanwhile, still within the cap.
        this.pending.unshift(block);
        this.pendingBytes += block.length;
        if (this.pendingBytes > this.cap) this.keepNewest(this.cap);
        await new Promise((r) => setTimeout(r, RETRY_MS).unref());
      }
    }
  }
}
