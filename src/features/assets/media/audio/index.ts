// Audio validation by declared (normalized) type: each container's structural check and the
// sample-rate, channel and duration limits where the container declares them.
import type { SupportedMediaType } from '../types.ts';
import { parseAac } from './aac.ts';
import { parseFlac } from './flac.ts';
import type { AudioInfo } from './limits.ts';
import { parseMp4 } from './mp4.ts';
import { parseMpeg } from './mpeg.ts';
import { parseOggOpus } from './ogg-opus.ts';
import { parsePcm } from './pcm.ts';
import { parseWav } from './wav.ts';
import { parseWebm } from './webm.ts';

export type { AudioInfo } from './limits.ts';

export function validateAudio(bytes: Uint8Array, mediaType: SupportedMediaType): AudioInfo {
  switch (mediaType) {
    case 'audio/wav':
      return parseWav(bytes);
    case 'audio/webm':
      return parseWebm(bytes);
    case 'audio/mpeg':
    case 'audio/mpga':
      return parseMpeg(bytes);
    case 'audio/opus':
      return parseOggOpus(bytes);
    case 'audio/aac':
      return parseAac(bytes);
    case 'audio/flac':
      return parseFlac(bytes);
    case 'audio/mp4':
    case 'audio/m4a':
      return parseMp4(bytes);
    case 'audio/pcm':
    case 'audio/l16':
    case 'audio/l24':
      return parsePcm(bytes, mediaType);
    default:
      throw new Error(`not an audio type: ${mediaType}`);
  }
}
