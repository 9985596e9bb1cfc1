// WAV: RIFF/WAVE with a coherent PCM, IEEE float or extensible `fmt ` chunk before a non-empty,
// block-aligned `data` chunk. Lengths are exact, or the streaming sentinels providers write when
// they do not know the length yet (0 or 0xFFFFFFFF), in which case the data runs to the end.
import { ByteReader } from '../bytes.ts';
import { invalid } from '../errors.ts';
import { type AudioInfo, checkChannels, checkDuration, checkRate } from './limits.ts';

const SENTINELS = new Set([0, 0xffffffff]);

export function parseWav(bytes: Uint8Array): AudioInfo {
  const r = new ByteReader(bytes, 'WAV');
  if (r.ascii(0, 4) !== 'RIFF' || r.ascii(8, 4) !== 'WAVE') throw invalid('WAV is not RIFF/WAVE');
  const riffSize = r.u32le(4);
  const streamingRiff = SENTINELS.has(riffSize);
  let o = 12;
  let fmt: {
    format: number;
    channels: number;
    rate: number;
    byteRate: number;
    align: number;
    bits: number;
  } | null = null;
  for (;;) {
    const id = r.ascii(o, 4);
    const size = r.u32le(o + 4);
    const body = o + 8;
    if (id === 'fmt ') {
      if (size < 16) throw invalid('WAV fmt chunk is shorter than 16 bytes');
      let format = r.u16le(body);
      if (format === 0xfffe) {
        if (size < 40) throw invalid('WAV extensible fmt chunk is shorter than 40 bytes');
        format = r.u16le(body + 24); // the sub-format GUID starts with the format tag
      }
      fmt = {
        format,
        channels: r.u16le(body + 2),
        rate: r.u32le(body + 4),
        byteRate: r.u32le(body + 8),
        align: r.u16le(body + 12),
        bits: r.u16le(body + 14),
      };
      if (format !== 1 && format !== 3) throw invalid(`WAV sample format ${format} is not PCM or IEEE float`);
      if (fmt.channels === 0) throw invalid('WAV declares zero channels');
      checkChannels(fmt.channels, 'WAV');
      checkRate(fmt.rate, 'WAV');
      const validBits = format === 3 ? [32, 64] : [8, 16, 24, 32];
      if (!validBits.includes(fmt.bits)) throw invalid(`WAV has ${fmt.bits} bits per sample`);
      if (fmt.align !== fmt.channels * (fmt.bits / 8))
        throw invalid(
          `WAV block align ${fmt.align} does not match ${fmt.channels} channels of ${fmt.bits} bits`,
        );
      if (fmt.byteRate !== fmt.rate * fmt.align)
        throw invalid(`WAV byte rate ${fmt.byteRate} does not match ${fmt.rate} Hz × ${fmt.align} bytes`);
    } else if (id === 'data') {
      if (!fmt) throw invalid('WAV data chunk comes before its fmt chunk');
      const streaming = SENTINELS.has(size) && (streamingRiff || size === 0xffffffff);
      const available = r.length - body;
      const dataBytes = streaming ? available : size;
      if (dataBytes === 0) throw invalid('WAV data chunk is empty');
      // The declared duration is checked before the length: a header declaring hours is a limit
      // refusal even when the file is cut short.
      const duration_ms = checkDuration(dataBytes / fmt.byteRate, 'WAV');
      if (!streamingRiff && riffSize + 8 !== r.length)
        throw invalid(`WAV RIFF length says ${riffSize + 8} bytes, the file has ${r.length}`);
      if (!streaming && size > available)
        throw invalid(`WAV data chunk declares ${size} bytes, only ${available} are present`);
      if (dataBytes % fmt.align !== 0)
        throw invalid(`WAV data (${dataBytes} bytes) is not a whole number of ${fmt.align}-byte frames`);
      return { sample_rate_hz: fmt.rate, channels: fmt.channels, duration_ms };
    }
    o = body + size + (size & 1);
    if (o >= r.length) throw invalid('WAV has no data chunk');
  }
}
