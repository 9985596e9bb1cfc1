// Raw PCM has no container: no magic, no rate or channel metadata. Only a non-empty payload whose
// length is a whole number of samples (audio/pcm and audio/l16: 16-bit, audio/l24: 24-bit).
import { invalid } from '../errors.ts';
import type { AudioInfo } from './limits.ts';

export function parsePcm(bytes: Uint8Array, mediaType: 'audio/pcm' | 'audio/l16' | 'audio/l24'): AudioInfo {
  const width = mediaType === 'audio/l24' ? 3 : 2;
  if (bytes.byteLength === 0) throw invalid(`${mediaType} payload is empty`);
  if (bytes.byteLength % width !== 0)
    throw invalid(
      `${mediaType} payload (${bytes.byteLength} bytes) is not a whole number of ${width}-byte samples`,
    );
  return {};
}
