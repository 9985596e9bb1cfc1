// Structural pre-scan of a PDF before any PDF library sees it: counts objects (including those
// packed in object streams), streams and pages, and sizes every stream. A Flate stream the text
// extractor would inflate (anything but an image) is sized by what it inflates to, bounded, so a
// zip bomb in a content stream is refused here and not discovered by the extractor.
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
const PAGE = /\/Type\s*\/Page(?![A-Za-z])/g;

const count = (s: string, re: RegExp): number => {
  re.lastIndex = 0;
  let n = 0;
  while (re.exec(s)) n++;
  return n;
};

/** Inflates at most `max + 1` bytes: the size if within `max`, else `max + 1`; null if not Flate data. */
function inflatedSize(data: Uint8Array, max: number): { size: number; text?: string } | null {
  try {
    const out = inflateSync(data, { maxOutputLength: max + 1, finishFlush: zlib.Z_SYNC_FLUSH });
    return { size: out.byteLength, text: out.toString('latin1') };
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') return { size: max + 1 };
    return null;
  }
}

export function scanPdf(bytes: Uint8Array, signal?: AbortSignal): PdfScan {
  const s = latin1(bytes);
  const header = s.indexOf('%PDF-');
  if (header < 0 || header > 1024) throw invalid('application/pdf content has no %PDF- header');
  const { maxObjects, maxStreams, maxStreamBytes, maxTotalStreamBytes, maxPages } = PDF_LIMITS;
  const encrypted = /\/Encrypt\s/.test(s);

  const objStarts: number[] = [];
  OBJ.lastIndex = 0;
  for (let m = OBJ.exec(s); m; m = OBJ.exec(s)) objStarts.push(m.index);
  let objects = objStarts.length;
  let pages = count(s, PAGE);
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
    if (flate && !image && !encrypted) {
      const inflated = inflatedSize(data, maxStreamBytes);
      if (inflated) {
        size = inflated.size;
        if (inflated.text !== undefined && /\/Type\s*\/ObjStm\b/.test(dict))
          pages += count(inflated.text, PAGE);
      }
    }
    if (/\/Type\s*\/ObjStm\b/.test(dict)) objects += Number(/\/N\s+(\d+)/.exec(dict)?.[1] ?? 0);
    if (size > maxStreamBytes)
      throw limitExceeded(
        `PDF stream at offset ${m.index} exceeds ${maxStreamBytes} bytes (the per-stream limit)`,
      );
    total += size;
    if (total > maxTotalStreamBytes)
      throw limitExceeded(`PDF streams exceed ${maxTotalStreamBytes} bytes in total (the limit)`);
  }
  if (objects > maxObjects) throw limitExceeded(`PDF has ${objects} objects; the limit is ${maxObjects}`);
  if (pages > maxPages) throw limitExceeded(`PDF has ${pages} pages; the limit is ${maxPages}`);
  return { objects, streams, pages, streamBytes: total };
}
