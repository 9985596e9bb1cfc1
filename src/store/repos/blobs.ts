// Blobs kept in the database in chunks (migration 0014): the only SQL about them. The rotation
// policy (what to keep) belongs to the caller; these functions only move bytes and counters.
import type { BlobChunksTable, BlobsTable, Db, Executor } from '../schema.ts';

export type BlobHead = BlobsTable;
export interface BlobChunk {
  start_byte: number;
  data: Buffer;
}

/** Chunks are never larger: a range read seeks from `from - BLOB_CHUNK_MAX_BYTES`. */
export const BLOB_CHUNK_MAX_BYTES = 64 * 1024;

const headOf = (r: BlobsTable): BlobHead => ({
  blob_id: r.blob_id,
  total_bytes: Number(r.total_bytes),
  discarded_bytes: Number(r.discarded_bytes),
  rotation_count: Number(r.rotation_count),
  updated_at_ms: Number(r.updated_at_ms),
});

const chunkOf = (r: Pick<BlobChunksTable, 'start_byte' | 'data'>): BlobChunk => ({
  start_byte: Number(r.start_byte),
  data: Buffer.from(r.data),
});

export async function getBlobHead(db: Executor, blobId: string): Promise<BlobHead | undefined> {
  const r = await db.selectFrom('blobs').selectAll().where('blob_id', '=', blobId).executeTakeFirst();
  return r && headOf(r);
}

export async function saveBlobHead(db: Executor, head: BlobHead): Promise<void> {
  const { blob_id: _id, ...rest } = head;
  await db
    .insertInto('blobs')
    .values(head)
    .onConflict((oc) => oc.column('blob_id').doUpdateSet(rest))
    .execute();
}

/** The newest chunk (appends may grow it up to BLOB_CHUNK_MAX_BYTES). */
export async function lastBlobChunk(db: Executor, blobId: string): Promise<BlobChunk | undefined> {
  const r = await db
    .selectFrom('blob_chunks')
    .select(['start_byte', 'data'])
    .where('blob_id', '=', blobId)
    .orderBy('start_byte', 'desc')
    .limit(1)
    .executeTakeFirst();
  return r && chunkOf(r);
}

/** The oldest retained chunk. */
export async function firstBlobChunk(db: Executor, blobId: string): Promise<BlobChunk | undefined> {
  const r = await db
    .selectFrom('blob_chunks')
    .select(['start_byte', 'data'])
    .where('blob_id', '=', blobId)
    .orderBy('start_byte', 'asc')
    .limit(1)
    .executeTakeFirst();
  return r && chunkOf(r);
}

export async function insertBlobChunk(db: Executor, blobId: string, chunk: BlobChunk): Promise<void> {
  await db
    .insertInto('blob_chunks')
    .values({
      blob_id: blobId,
      start_byte: chunk.start_byte,
      size_bytes: chunk.data.length,
      data: chunk.data,
    })
    .execute();
}

/** Rewrites the chunk that started at `startByte` (grown by an append, or cut by a rotation). */
export async function replaceBlobChunk(
  db: Executor,
  blobId: string,
  startByte: number,
  chunk: BlobChunk,
): Promise<void> {
  await db
    .updateTable('blob_chunks')
    .set({ start_byte: chunk.start_byte, size_bytes: chunk.data.length, data: chunk.data })
    .where('blob_id', '=', blobId)
    .where('start_byte', '=', startByte)
    .execute();
}

export async function deleteBlobChunk(db: Executor, blobId: string, startByte: number): Promise<void> {
  await db
    .deleteFrom('blob_chunks')
    .where('blob_id', '=', blobId)
    .where('start_byte', '=', startByte)
    .execute();
}

/** Drops the chunks that end at or before `offset`. */
export async function dropBlobChunksBefore(db: Executor, blobId: string, offset: number): Promise<void> {
  await db
    .deleteFrom('blob_chunks')
    .where('blob_id', '=', blobId)
    .where((eb) => eb(eb('start_byte', '+', eb.ref('size_bytes')), '<=', offset))
    .execute();
}

/** Chunks overlapping bytes [from, to) of the blob, in order. */
export async function blobChunksIn(
  db: Executor,
  blobId: string,
  from: number,
  to: number,
): Promise<BlobChunk[]> {
  if (to <= from) return [];
  const rows = await db
    .selectFrom('blob_chunks')
    .select(['start_byte', 'data'])
    .where('blob_id', '=', blobId)
    .where('start_byte', '>=', Math.max(0, from - BLOB_CHUNK_MAX_BYTES))
    .where('start_byte', '<', to)
    .where((eb) => eb(eb('start_byte', '+', eb.ref('size_bytes')), '>', from))
    .orderBy('start_byte', 'asc')
    .execute();
  return rows.map(chunkOf);
}

/**
 * Runs reads on one snapshot (REPEATABLE READ where the database has it), so a head and the
 * chunks read after it agree even while the writer rotates the blob.
 */
export function onBlobSnapshot<T>(db: Db, fn: (q: Executor) => Promise<T>): Promise<T> {
  return db.transaction().setIsolationLevel('repeatable read').execute(fn);
}
