// Content sniffing by magic numbers. "Strong" kinds are signatures no text or raw PCM payload has
// by accident; they decide mismatches. "Weak" kinds (a bare MPEG or ADTS frame sync) only help infer
// a type when none was declared, since raw PCM may start with the same bits.
import { id3Length, startsWith } from './bytes.ts';

export type StrongKind =
  | 'png'
  | 'jpeg'
  | 'pdf'
  | 'wav'
  | 'ogg'
  | 'flac'
  | 'mp4'
  | 'webm'
  | 'adif'
  | 'executable';
export type WeakKind = 'mpeg' | 'adts';

export interface Sniffed {
  strong?: StrongKind;
  weak?: WeakKind;
  /** For executables: which kind (ELF, PE, Mach-O, …), for the refusal detail. */
  label?: string;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function executableLabel(b: Uint8Array): string | undefined {
  if (startsWith(b, [0x7f, 0x45, 0x4c, 0x46])) return 'an ELF executable';
  if (startsWith(b, [0x00, 0x61, 0x73, 0x6d])) return 'a WebAssembly module';
  for (const m of [
    [0xfe, 0xed, 0xfa, 0xce],
    [0xfe, 0xed, 0xfa, 0xcf],
    [0xce, 0xfa, 0xed, 0xfe],
    [0xcf, 0xfa, 0xed, 0xfe],
    [0xca, 0xfe, 0xba, 0xbe],
  ])
    if (startsWith(b, m)) return 'a Mach-O or Java class binary';
  if (startsWith(b, 'MZ') && b.byteLength >= 64) {
    // A DOS/PE header: binary fields (NUL bytes) in its first 64 bytes, or a PE signature where
    // e_lfanew points. A text file that happens to start with "MZ" has neither.
    const lfanew = b[0x3c]! | (b[0x3d]! << 8) | (b[0x3e]! << 16) | (b[0x3f]! << 24);
    if (lfanew > 0 && startsWith(b, 'PE\0\0', lfanew)) return 'a Windows (PE) executable';
    if (b.subarray(0, 64).includes(0)) return 'a DOS/Windows executable';
  }
  return undefined;
}

export const isMpegFrameSync = (b: Uint8Array, at: number): boolean =>
  b.byteLength >= at + 4 &&
  b[at] === 0xff &&
  (b[at + 1]! & 0xe0) === 0xe0 &&
  (b[at + 1]! & 0x18) !== 0x08 && // version 01 is reserved
  (b[at + 1]! & 0x06) !== 0x00; // layer 00 is ADTS, not MPEG audio

export const isAdtsSync = (b: Uint8Array, at: number): boolean =>
  b.byteLength >= at + 7 && b[at] === 0xff && (b[at + 1]! & 0xf6) === 0xf0;

function sniffAt(b: Uint8Array, at: number): Sniffed {
  if (startsWith(b, PNG_SIGNATURE, at)) return { strong: 'png' };
  if (startsWith(b, [0xff, 0xd8, 0xff], at)) return { strong: 'jpeg' };
  if (startsWith(b, 'RIFF', at) && startsWith(b, 'WAVE', at + 8)) return { strong: 'wav' };
  if (startsWith(b, 'OggS', at)) return { strong: 'ogg' };
  if (startsWith(b, 'fLaC', at)) return { strong: 'flac' };
  if (startsWith(b, 'ftyp', at + 4)) return { strong: 'mp4' };
  if (startsWith(b, [0x1a, 0x45, 0xdf, 0xa3], at)) return { strong: 'webm' };
  if (startsWith(b, 'ADIF', at)) return { strong: 'adif' };
  if (isMpegFrameSync(b, at)) return { weak: 'mpeg' };
  if (isAdtsSync(b, at)) return { weak: 'adts' };
  return {};
}

export function sniff(b: Uint8Array): Sniffed {
  const exe = executableLabel(b);
  if (exe) return { strong: 'executable', label: exe };
  // Only at offset 0: a text document quoting "%PDF-" is still text (the PDF reader itself
  // accepts a header anywhere in the first KiB of a declared PDF).
  if (startsWith(b, '%PDF-')) return { strong: 'pdf' };
  const id3 = id3Length(b);
  if (id3 > 0) {
    const inner = sniffAt(b, id3);
    // An ID3 tag alone says "audio"; what follows it decides which.
    return inner.strong || inner.weak ? inner : { weak: 'mpeg' };
  }
  return sniffAt(b, 0);
}

/** Human name of a sniffed kind for refusal details. */
export const KIND_NAMES: Readonly<Record<StrongKind | WeakKind, string>> = {
  png: 'a PNG image',
  jpeg: 'a JPEG image',
  pdf: 'a PDF document',
  wav: 'a WAV (RIFF/WAVE) file',
  ogg: 'an Ogg stream',
  flac: 'a FLAC stream',
  mp4: 'an MP4 (ISO BMFF) file',
  webm: 'an EBML (WebM/Matroska) file',
  adif: 'an ADIF AAC stream',
  executable: 'an executable',
  mpeg: 'MPEG audio',
  adts: 'ADTS AAC audio',
};
