// MP3 / MPGA: a complete MPEG audio frame at the start or right after an ID3v2 tag. The duration
// comes from a Xing/Info frame count when present, else from the first frame's bitrate (CBR).
import { ByteReader, id3Length } from '../bytes.ts';
import { invalid } from '../errors.ts';
import { type AudioInfo, checkChannels, checkDuration, checkRate } from './limits.ts';

const BITRATES: Readonly<Record<string, readonly number[]>> = {
  '1-1': [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  '1-2': [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  '1-3': [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  '2-1': [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  '2-2': [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  '2-3': [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};
const RATES: Readonly<Record<number, readonly number[]>> = {
  3: [44100, 48000, 32000],
  2: [22050, 24000, 16000],
  0: [11025, 12000, 8000],
};

export function parseMpeg(bytes: Uint8Array): AudioInfo {
  const r = new ByteReader(bytes, 'MPEG audio');
  const at = id3Length(bytes);
  if (at > r.length) throw invalid('MPEG audio ID3 tag runs past the end of the file');
  if (r.u8(at) !== 0xff || (r.u8(at + 1) & 0xe0) !== 0xe0)
    throw invalid(`MPEG audio has no frame sync at offset ${at}${at ? ' (after its ID3 tag)' : ''}`);
  const b1 = r.u8(at + 1);
  const b2 = r.u8(at + 2);
  const b3 = r.u8(at + 3);
  const version = (b1 >> 3) & 3;
  const layerBits = (b1 >> 1) & 3;
  if (version === 1) throw invalid('MPEG audio frame has the reserved version');
  if (layerBits === 0) throw invalid('MPEG audio frame has the reserved layer (ADTS AAC is audio/aac)');
  const layer = 4 - layerBits;
  const bitrateIdx = b2 >> 4;
  const rateIdx = (b2 >> 2) & 3;
  if (bitrateIdx === 0 || bitrateIdx === 15) throw invalid('MPEG audio frame has a free or invalid bitrate');
  if (rateIdx === 3) throw invalid('MPEG audio frame has the reserved sample rate');
  const v1 = version === 3;
  const kbps = BITRATES[`${v1 ? 1 : 2}-${layer}`]![bitrateIdx]!;
  const rate = RATES[version]![rateIdx]!;
  const channels = b3 >> 6 === 3 ? 1 : 2;
  checkRate(rate, 'MPEG audio');
  checkChannels(channels, 'MPEG audio');
  const pad = (b2 >> 1) & 1;
  const bps = kbps * 1000;
  const frameLength =
    layer === 1
      ? (Math.floor((12 * bps) / rate) + pad) * 4
      : Math.floor(((layer === 3 && !v1 ? 72 : 144) * bps) / rate) + pad;
  if (at + frameLength > r.length)
    throw invalid(`MPEG audio first frame needs ${frameLength} bytes, ${r.length - at} are present`);
  const samplesPerFrame = layer === 1 ? 384 : layer === 3 && !v1 ? 576 : 1152;
  const sideInfo = v1 ? (channels === 1 ? 17 : 32) : channels === 1 ? 9 : 17;
  const tag = at + 4 + sideInfo;
  let seconds = ((r.length - at) * 8) / bps;
  if (tag + 12 <= at + frameLength) {
    const id = r.ascii(tag, 4);
    if ((id === 'Xing' || id === 'Info') && r.u32be(tag + 4) & 1)
      seconds = (r.u32be(tag + 8) * samplesPerFrame) / rate;
  }
  return { sample_rate_hz: rate, channels, duration_ms: checkDuration(seconds, 'MPEG audio') };
}
