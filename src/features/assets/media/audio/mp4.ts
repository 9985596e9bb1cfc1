// MP4 / M4A (ISO BMFF): `ftyp` first, a non-empty `mdat`, and a `moov` with a track whose handler is
// `soun`. Channels and sample rate come from that track's sample entry, the duration from `mvhd`.
import { ByteReader } from '../bytes.ts';
import { invalid } from '../errors.ts';
import { type AudioInfo, checkChannels, checkDuration, checkRate } from './limits.ts';

interface Box {
  type: string;
  body: number;
  end: number;
}

function* children(r: ByteReader, start: number, end: number): Generator<Box> {
  let o = start;
  while (o + 8 <= end) {
    let size = r.u32be(o);
    const type = r.ascii(o + 4, 4);
    let header = 8;
    if (size === 1) {
      size = r.u64be(o + 8);
      header = 16;
    } else if (size === 0) size = end - o;
    if (size < header) throw invalid(`MP4 box ${JSON.stringify(type)} at offset ${o} has an invalid size`);
    if (o + size > end)
      throw invalid(`MP4 box ${JSON.stringify(type)} at offset ${o} runs past its container`);
    yield { type, body: o + header, end: o + size };
    o += size;
  }
}

const find = (r: ByteReader, parent: Box, type: string): Box | undefined => {
  for (const b of children(r, parent.body, parent.end)) if (b.type === type) return b;
  return undefined;
};

function audioTrack(r: ByteReader, trak: Box): { channels: number; rate: number } | null {
  const mdia = find(r, trak, 'mdia');
  const hdlr = mdia && find(r, mdia, 'hdlr');
  if (!mdia || !hdlr || r.ascii(hdlr.body + 8, 4) !== 'soun') return null;
  const minf = find(r, mdia, 'minf');
  const stbl = minf && find(r, minf, 'stbl');
  const stsd = stbl && find(r, stbl, 'stsd');
  if (!stsd) throw invalid('MP4 audio track has no sample description (stsd)');
  const entry = children(r, stsd.body + 8, stsd.end).next().value;
  if (!entry) throw invalid('MP4 audio track has an empty sample description');
  return { channels: r.u16be(entry.body + 16), rate: r.u32be(entry.body + 24) >>> 16 };
}

export function parseMp4(bytes: Uint8Array): AudioInfo {
  const r = new ByteReader(bytes, 'MP4');
  const top = [...children(r, 0, r.length)];
  if (top[0]?.type !== 'ftyp') throw invalid('MP4 does not start with an ftyp box');
  if (!top.some((b) => b.type === 'mdat' && b.end > b.body)) throw invalid('MP4 has no media data (mdat)');
  const moov = top.find((b) => b.type === 'moov');
  if (!moov) throw invalid('MP4 has no movie header (moov)');
  let audio: { channels: number; rate: number } | null = null;
  for (const b of children(r, moov.body, moov.end)) if (b.type === 'trak') audio ??= audioTrack(r, b);
  if (!audio) throw invalid('MP4 has no audio track (no soun handler)');
  if (audio.channels === 0) throw invalid('MP4 audio sample entry declares zero channels');
  checkChannels(audio.channels, 'MP4 audio');
  if (audio.rate !== 0) checkRate(audio.rate, 'MP4 audio');
  const info: AudioInfo = { channels: audio.channels, ...(audio.rate ? { sample_rate_hz: audio.rate } : {}) };
  const mvhd = find(r, moov, 'mvhd');
  if (mvhd) {
    const v1 = r.u8(mvhd.body) === 1;
    const timescale = r.u32be(mvhd.body + (v1 ? 20 : 12));
    const duration = v1 ? r.u64be(mvhd.body + 24) : r.u32be(mvhd.body + 16);
    const unknown = v1 ? duration >= 2 ** 53 : duration === 0xffffffff;
    if (timescale > 0 && duration > 0 && !unknown)
      info.duration_ms = checkDuration(duration / timescale, 'MP4 audio');
  }
  return info;
}
