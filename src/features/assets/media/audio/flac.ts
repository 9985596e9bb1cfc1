// FLAC: `fLaC`, then the mandatory STREAMINFO block first, with valid sample rate, channels and
// bits per sample; metadata blocks walked to the last one; a frame sync after them.
import { ByteReader, id3Length } from '../bytes.ts';
import { invalid } from '../errors.ts';
import { type AudioInfo, checkChannels, checkDuration, checkRate } from './limits.ts';

export function parseFlac(bytes: Uint8Array): AudioInfo {
  const r = new ByteReader(bytes, 'FLAC');
  const start = id3Length(bytes);
  if (r.ascii(start, 4) !== 'fLaC') throw invalid('FLAC does not start with fLaC');
  const head = r.u8(start + 4);
  if ((head & 0x7f) !== 0) throw invalid('FLAC first metadata block is not STREAMINFO');
  if (r.u24be(start + 5) !== 34) throw invalid('FLAC STREAMINFO block is not 34 bytes');
  const s = start + 8;
  r.need(s, 34);
  const minBlock = r.u16be(s);
  const maxBlock = r.u16be(s + 2);
  if (minBlock < 16 || maxBlock < minBlock) throw invalid('FLAC STREAMINFO block sizes are invalid');
  const rate = (r.u8(s + 10) << 12) | (r.u8(s + 11) << 4) | (r.u8(s + 12) >> 4);
  const channels = ((r.u8(s + 12) >> 1) & 7) + 1;
  const bits = (((r.u8(s + 12) & 1) << 4) | (r.u8(s + 13) >> 4)) + 1;
  const totalSamples = (r.u8(s + 13) & 0xf) * 2 ** 32 + r.u32be(s + 14);
  checkRate(rate, 'FLAC');
  checkChannels(channels, 'FLAC');
  if (bits < 4) throw invalid(`FLAC declares ${bits} bits per sample`);
  let o = start + 4;
  let last = (head & 0x80) !== 0;
  o += 4 + 34;
  for (let blocks = 1; !last; blocks++) {
    if (blocks > 1024) throw invalid('FLAC has too many metadata blocks');
    const h = r.u8(o);
    if ((h & 0x7f) === 127) throw invalid('FLAC metadata block type 127 is invalid');
    last = (h & 0x80) !== 0;
    o += 4 + r.u24be(o + 1);
  }
  if (r.u8(o) !== 0xff || (r.u8(o + 1) & 0xfe) !== 0xf8)
    throw invalid('FLAC has no audio frame after its metadata');
  const duration_ms = totalSamples > 0 ? checkDuration(totalSamples / rate, 'FLAC') : undefined;
  return { sample_rate_hz: rate, channels, ...(duration_ms !== undefined ? { duration_ms } : {}) };
}
