// Structural pre-scan of a PDF before any PDF library sees it: counts objects (including those
// packed in object streams), streams and pages, and sizes every stream. A Flate stream the text
// extractor would inflate (anything but an image) is sized by what it inflates to, bounded, so a
// zip bomb in a content stream is refused here and not discovered by the extractor. Objects and
// pages are counted by object number: an incremental update that rewrites an object adds none.
import { inflateSync, constants as zlib } from 'node:zlib';
import { latin1 } from './bytes.ts';
import { invalid, limitExceeded } from './errors.ts';
import { PDF_LIMITS } from './limits.ts';

export interface PdfScan {
  objects: number;
  streams: number;
  pages: number;
  streamBytes: number;
}

const OBJ = /(\d+)\s+(\d+)\s+obj\b/g;
const STREAM = /(?<!end)stream(?:\r\n|\n)/g;
const PAGE = /\/Type\s*\/Page(?![A-Za-z])/;
const OBJSTM = /\/Type\s*\/ObjStm\b/;

/** Inflates at most `max + 1` bytes: the size if within `max`, else `max + 1`; null if not Flate data. */
function inflate(data: Uint8Array, max: number): { size: number; out?: Buffer } | null {
  try {
    const out = inflateSync(data, { maxOutputLength: max + 1, finishFlush: zlib.Z_SYNC_FLUSH });
    return { size: out.byteLength, out };
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') return { size: max + 1 };
    return null;
  }
}

/** Object streams: a header of N pairs "objnum offset", then the objects from /First on. */
function readObjectStream(dict: string, content: string, objects: Set<number>, pages: Set<number>): boolean {
  const first = Number(/\/First\s+(\d+)/.exec(dict)?.[1] ?? Number.NaN);
  if (!Number.isFinite(first)) return false;
  const nums = content.slice(0, first).trim().split(/\s+/).map(Number);
  for (let i = 0; i + 1 < nums.length; i += 2) {
    objects.add(nums[i]!);
    const end = i + 3 < nums.length ? first + nums[i + 3]! : content.length;
    if (PAGE.test(content.slice(first + nums[i + 1]!, end))) pages.add(nums[i]!);
  }
  return true;
}

export function scanPdf(bytes: Uint8Array, signal?: AbortSignal): PdfScan {
  const s = latin1(bytes);
  const header = s.indexOf('%PDF-');
  if (header < 0 || header > 1024) throw invalid('application/pdf content has no %PDF- header');
  const { maxObjects, maxStreams, maxStreamBytes, maxTotalStreamBytes, maxPages } = PDF_LIMITS;
  const encrypted = /\/Encrypt\s/.test(s);

  const objStarts: number[] = [];
  const objects = new Set<number>();
  const pages = new Set<number>();
  let unreadPacked = 0; // objects in object streams that could not be inflated: their /N
  OBJ.lastIndex = 0;
  let previous: { index: number; num: number } | undefined;
  for (let m = OBJ.exec(s); m; m = OBJ.exec(s)) {
    objStarts.push(m.index);
    objects.add(Number(m[1]));
    if (previous && PAGE.test(s.slice(previous.index, m.index))) pages.add(previous.num);
    previous = { index: m.index, num: Number(m[1]) };
  }
  if (previous && PAGE.test(s.slice(previous.index))) pages.add(previous.num);
  let streams = 0;
  let total = 0;

  STREAM.lastIndex = 0;
  let k = 0;
  for (let m = STREAM.exec(s); m; m = STREAM.exec(s)) {
    if (++streams > maxStreams)
      throw limitExceeded(`PDF has more than ${maxStreams} streams; the limit is ${maxStreams}`);
    if (streams % 64 === 0) signal?.throwIfAborted();
    while (k + 1 < objStarts.length && objStarts[k + 1]! < m.index) k++;
    const dict = objStarts.length > 0 && objStarts[k]! < m.index ? s.slice(objStarts[k], m.index) : '';
    const start = m.index + m[0].length;
    const direct = /\/Length\s+(\d+)(?!\s+\d+\s+R)/.exec(dict);
    let end = -1;
    if (direct) {
      const e = start + Number(direct[1]);
      if (/^\s*endstream/.test(s.slice(e, e + 16))) end = e;
    }
    if (end < 0) end = s.indexOf('endstream', start);
    if (end < 0) throw invalid(`PDF stream at offset ${m.index} has no endstream`);
    STREAM.lastIndex = end;
    const data = bytes.subarray(start, end);
    let size = data.byteLength;
    const flate = /\/Filter\s*\[?\s*\/FlateDecode\s*\]?\s*(?:\/|>>)/.test(dict);
    const image = /\/Subtype\s*\/Image\b/.test(dict);
    const objStm = OBJSTM.test(dict);
    let packedRead = false;
    if (flate && !image && !encrypted) {
      const inflated = inflate(data, maxStreamBytes);
      if (inflated) {
        size = inflated.size;
        if (objStm && inflated.out)
          packedRead = readObjectStream(dict, inflated.out.toString('latin1'), objects, pages);
      }
    }
    if (objStm && !packedRead) unreadPacked += Number(/\/N\s+(\d+)/.exec(dict)?.[1] ?? 0);
    if (size > maxStreamBytes)
      throw limitExceeded(
        `PDF stream at offset ${m.index} exceeds ${maxStreamBytes} bytes (the per-stream limit)`,
      );
    total += size;
    if (total > maxTotalStreamBytes)
      throw limitExceeded(`PDF streams exceed ${maxTotalStreamBytes} bytes in total (the limit)`);
  }
  const objectCount = objects.size + unreadPacked;
  if (objectCount > maxObjects)
    throw limitExceeded(`PDF has ${objectCount} objects; the limit is ${maxObjects}`);
  if (pages.size > maxPages) throw limitExceeded(`PDF has ${pages.size} pages; the limit is ${maxPages}`);
  return { objects: objectCount, streams, pages: pages.size, streamBytes: total };
}
