// AAC: ADTS frames (optionally after an ID3 tag) with a valid sampling-frequency index and channel
// configuration, each frame length bounded and complete; or an ADIF header. The ADTS duration is
// counted frame by frame (1024 samples per raw data block).
import { ByteReader, id3Length, startsWith } from '../bytes.ts';
import { invalid } from '../errors.ts';
import { isAdtsSync } from '../sniff.ts';
import { type AudioInfo, checkChannels, checkDuration, checkRate } from './limits.ts';

const RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

export function parseAac(bytes: Uint8Array): AudioInfo {
  const r = new ByteReader(bytes, 'AAC');
  const start = id3Length(bytes);
  if (startsWith(bytes, 'ADIF', start)) {
    // ADIF has one header and raw blocks without frame boundaries: the header must be followed by data.
    if (r.length <= start + 17) throw invalid('ADIF AAC has no audio data after its header');
    return {};
  }
  let o = start;
  let frames = 0;
  let rate = 0;
  let channels = 0;
  while (o < r.length) {
    if (!isAdtsSync(bytes, o)) {
      if (frames === 0) throw invalid(`AAC has no ADTS frame sync at offset ${o}`);
      break; // trailing tag or padding after the frames
    }
    const rateIdx = (r.u8(o + 2) >> 2) & 0xf;
    const config = ((r.u8(o + 2) & 1) << 2) | (r.u8(o + 3) >> 6);
    const length = ((r.u8(o + 3) & 3) << 11) | (r.u8(o + 4) << 3) | (r.u8(o + 5) >> 5);
    const blocks = (r.u8(o + 6) & 3) + 1;
    const headerLength = r.u8(o + 1) & 1 ? 7 : 9;
    if (frames === 0) {
      if (rateIdx >= RATES.length) throw invalid(`ADTS sampling frequency index ${rateIdx} is invalid`);
      if (config === 0) throw invalid('ADTS channel configuration 0 (in-band) is not supported');
      rate = RATES[rateIdx]!;
      channels = config === 7 ? 8 : config;
      checkRate(rate, 'AAC');
      checkChannels(channels, 'AAC');
    }
    if (length <= headerLength) throw invalid(`ADTS frame at offset ${o} has an invalid length ${length}`);
    if (o + length > r.length) {
      if (frames === 0) throw invalid(`ADTS first frame needs ${length} bytes, ${r.length - o} are present`);
      break; // a cut-off last frame in a stream recording
    }
    frames += blocks;
    o += length;
  }
  return { sample_rate_hz: rate, channels, duration_ms: checkDuration((frames * 1024) / rate, 'AAC') };
}
