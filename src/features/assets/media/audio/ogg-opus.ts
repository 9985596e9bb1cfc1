// Opus: an Ogg page whose first packet is a complete `OpusHead` with a valid channel count and
// mapping. The duration is the last page's granule position (48 kHz) less the pre-skip.
import { ByteReader } from '../bytes.ts';
import { invalid } from '../errors.ts';
import { type AudioInfo, checkChannels, checkDuration, checkRate } from './limits.ts';

interface Page {
  granule: number;
  headerLength: number;
  bodyLength: number;
  firstPacketLength: number;
}

function readPage(r: ByteReader, o: number): Page {
  if (r.ascii(o, 4) !== 'OggS') throw invalid(`Ogg page expected at offset ${o}`);
  if (r.u8(o + 4) !== 0) throw invalid('Ogg stream structure version is not 0');
  const segments = r.u8(o + 26);
  r.need(o + 27, segments);
  let bodyLength = 0;
  let firstPacketLength = -1;
  for (let i = 0; i < segments; i++) {
    const lace = r.u8(o + 27 + i);
    bodyLength += lace;
    if (lace < 255 && firstPacketLength < 0) firstPacketLength = bodyLength;
  }
  const lo = r.u32le(o + 6);
  const hi = r.u32le(o + 10);
  return { granule: hi * 2 ** 32 + lo, headerLength: 27 + segments, bodyLength, firstPacketLength };
}

export function parseOggOpus(bytes: Uint8Array): AudioInfo {
  const r = new ByteReader(bytes, 'Ogg Opus');
  const first = readPage(r, 0);
  if (first.firstPacketLength < 0) throw invalid('Ogg Opus first packet does not end on the first page');
  const p = first.headerLength;
  r.need(p, first.bodyLength);
  if (r.ascii(p, 8) !== 'OpusHead') throw invalid('Ogg stream does not start with an OpusHead packet');
  if (first.firstPacketLength < 19) throw invalid('OpusHead packet is shorter than 19 bytes');
  if (r.u8(p + 8) >> 4 !== 0) throw invalid(`OpusHead version ${r.u8(p + 8)} is not supported`);
  const channels = r.u8(p + 9);
  if (channels === 0) throw invalid('OpusHead declares zero channels');
  checkChannels(channels, 'Opus');
  const preSkip = r.u16le(p + 10);
  const inputRate = r.u32le(p + 12);
  if (inputRate !== 0) checkRate(inputRate, 'Opus');
  const family = r.u8(p + 18);
  if (family === 0 && channels > 2) throw invalid('OpusHead mapping family 0 allows 1 or 2 channels only');
  if (family !== 0) {
    if (first.firstPacketLength < 21 + channels) throw invalid('OpusHead channel mapping table is truncated');
    const streams = r.u8(p + 19);
    const coupled = r.u8(p + 20);
    if (streams === 0 || coupled > streams) throw invalid('OpusHead stream counts are invalid');
  }
  // The last page in the file carries the final granule position.
  const tail = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const last = tail.lastIndexOf('OggS', undefined, 'latin1');
  let duration_ms: number | undefined;
  let page: Page | undefined;
  try {
    if (last > 0) page = readPage(r, last);
  } catch {
    page = undefined; // "OggS" inside packet data, not a page: the duration stays unknown
  }
  if (page) {
    if (page.granule > preSkip && page.granule < 2 ** 53)
      duration_ms = checkDuration((page.granule - preSkip) / 48_000, 'Opus');
  }
  return { sample_rate_hz: 48_000, channels, ...(duration_ms !== undefined ? { duration_ms } : {}) };
}
