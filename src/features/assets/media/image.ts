// PNG and JPEG: header limits first (no decode), then a bounded decode and a re-encode within the
// normalized edge and size. The re-encoded image is the preview models are sent; the raw upload is
// kept as it came (docs/decisions.md, Assets: media).
import { invalid, limitExceeded } from './errors.ts';
import { checkSourceLimits, jpegHeader, pngHeader } from './image-header.ts';
import { IMAGE_LIMITS } from './limits.ts';

export interface NormalizedImage {
  preview: { media_type: 'image/png' | 'image/jpeg'; bytes: Uint8Array };
  width: number;
  height: number;
  source_width: number;
  source_height: number;
}

/** Each retry shrinks the edge by this factor when the re-encoded image is still over 4 MiB. */
const SHRINK = 0.7;
const MAX_ATTEMPTS = 6;

export async function normalizeImage(
  bytes: Uint8Array,
  mediaType: 'image/png' | 'image/jpeg',
  signal?: AbortSignal,
): Promise<NormalizedImage> {
  const format = mediaType === 'image/png' ? 'PNG' : 'JPEG';
  const header = mediaType === 'image/png' ? pngHeader(bytes) : jpegHeader(bytes);
  checkSourceLimits(header, format);
  signal?.throwIfAborted();
  const { default: sharp } = await import('sharp');
  sharp.cache(false);
  const { maxNormalizedEdge, maxNormalizedBytes, maxSourceArea } = IMAGE_LIMITS;
  let edge: number = maxNormalizedEdge;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    signal?.throwIfAborted();
    let out: { data: Buffer; info: { width: number; height: number; format: string } };
    try {
      const pipeline = sharp(bytes, {
        limitInputPixels: maxSourceArea,
        failOn: 'error',
        autoOrient: true,
        animated: false,
      }).resize({ width: edge, height: edge, fit: 'inside', withoutEnlargement: true });
      out = await (mediaType === 'image/png'
        ? pipeline.png({ compressionLevel: 9 })
        : pipeline.jpeg({ quality: 85, mozjpeg: true })
      ).toBuffer({ resolveWithObject: true });
    } catch (err) {
      throw invalid(`${format} could not be decoded: ${(err as Error).message}`);
    }
    if (out.data.byteLength <= maxNormalizedBytes)
      return {
        preview: { media_type: mediaType, bytes: new Uint8Array(out.data) },
        width: out.info.width,
        height: out.info.height,
        source_width: header.width,
        source_height: header.height,
      };
    edge = Math.floor(Math.max(out.info.width, out.info.height) * SHRINK);
  }
  throw limitExceeded(`${format} does not re-encode within ${maxNormalizedBytes} bytes`);
}
