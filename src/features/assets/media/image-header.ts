// Image dimensions read from the PNG IHDR or the JPEG SOF header, without decoding any pixel, so a
// decompression bomb (a small file declaring a huge canvas) is refused before the decoder runs.
import { ByteReader } from './bytes.ts';
import { invalid, limitExceeded } from './errors.ts';
import { IMAGE_LIMITS } from './limits.ts';

export interface ImageHeader {
  width: number;
  height: number;
  /** Bytes a full decode of the source needs (width × height × channels × bytes per sample). */
  decodeBytes: number;
}

const PNG_CHANNELS: Readonly<Record<number, number>> = { 0: 1, 2: 3, 3: 4, 4: 2, 6: 4 };

export function pngHeader(bytes: Uint8Array): ImageHeader {
  const r = new ByteReader(bytes, 'PNG');
  if (r.u32be(8) !== 13 || r.ascii(12, 4) !== 'IHDR') throw invalid('PNG does not start with an IHDR chunk');
  const width = r.u32be(16);
  const height = r.u32be(20);
  const depth = r.u8(24);
  const channels = PNG_CHANNELS[r.u8(25)];
  if (!channels || ![1, 2, 4, 8, 16].includes(depth))
    throw invalid('PNG IHDR has an invalid bit depth or color type');
  return { width, height, decodeBytes: width * height * channels * (depth === 16 ? 2 : 1) };
}

export function jpegHeader(bytes: Uint8Array): ImageHeader {
  const r = new ByteReader(bytes, 'JPEG');
  let o = 2;
  for (;;) {
    if (r.u8(o) !== 0xff) throw invalid(`JPEG marker expected at offset ${o}`);
    let marker = r.u8(o + 1);
    while (marker === 0xff) marker = r.u8(++o + 1); // fill bytes
    o += 2;
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) continue; // no length
    if (marker === 0xd9 || marker === 0xda)
      throw invalid('JPEG has no frame header (SOF) before its image data');
    const len = r.u16be(o);
    if (len < 2) throw invalid('JPEG segment has an invalid length');
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      const precision = r.u8(o + 2);
      const height = r.u16be(o + 3);
      const width = r.u16be(o + 5);
      const components = r.u8(o + 7);
      if (width === 0 || height === 0 || components === 0)
        throw invalid('JPEG frame header has a zero dimension');
      return { width, height, decodeBytes: width * height * components * (precision > 8 ? 2 : 1) };
    }
    o += len;
  }
}

export function checkSourceLimits(h: ImageHeader, format: string): void {
  const { maxSourceEdge, maxSourceArea, maxDecodeBytes } = IMAGE_LIMITS;
  if (h.width === 0 || h.height === 0) throw invalid(`${format} declares a zero dimension`);
  if (h.width > maxSourceEdge || h.height > maxSourceEdge)
    throw limitExceeded(
      `${format} is ${h.width}×${h.height} px; the source edge is limited to ${maxSourceEdge} px`,
    );
  if (h.width * h.height > maxSourceArea)
    throw limitExceeded(
      `${format} is ${h.width}×${h.height} = ${h.width * h.height} px; the source area is limited to ${maxSourceArea} px`,
    );
  if (h.decodeBytes > maxDecodeBytes)
    throw limitExceeded(
      `${format} needs ${h.decodeBytes} bytes to decode; decoding is limited to ${maxDecodeBytes} bytes`,
    );
}
