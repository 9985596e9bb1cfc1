// Validation and normalization of uploaded media (api-core §7.2), as pure functions of the bytes:
// the asset store calls `normalizeMedia` before anything is kept, so a refused upload stores nothing.
// Content decides: the declared type (parameters stripped, aliases folded) must match what the
// bytes are, and each format passes its structural check and limits. Refusals are `400 assets/…`
// with the codes in ./errors.ts. Heavy libraries (sharp, unpdf) load only when an image, a PDF or a
// DXF arrives.
import { type AudioInfo, validateAudio } from './audio/index.ts';
import { startsWith } from './bytes.ts';
import { invalid, tooLarge, unsupported } from './errors.ts';
import { MAX_RAW_UPLOAD_BYTES } from './limits.ts';
import { KIND_NAMES, type Sniffed, type StrongKind, sniff } from './sniff.ts';
import { isUtf8Text, normalizeText } from './text.ts';
import {
  canonicalMediaType,
  isAudioType,
  isTextType,
  type SupportedMediaType,
  typeFromExtension,
} from './types.ts';

export {
  ASSET_LIMIT_EXCEEDED,
  ASSET_TOO_LARGE,
  INVALID_ASSET_CONTENT,
  UNSUPPORTED_MEDIA_TYPE,
} from './errors.ts';
export { AUDIO_LIMITS, DXF_LIMITS, IMAGE_LIMITS, MAX_TEXT_BYTES, PDF_LIMITS } from './limits.ts';
export { MEDIA_TYPE_ALIASES, SUPPORTED_MEDIA_TYPES, type SupportedMediaType } from './types.ts';
export type { AudioInfo };
export { MAX_RAW_UPLOAD_BYTES };

export interface MediaInput {
  file_name: string;
  /** As declared by the caller (may be absent, carry parameters or be an alias). */
  media_type?: string;
  bytes: Uint8Array;
}

export interface NormalizedMedia {
  /** The normalized media type the asset is stored under. */
  media_type: string;
  /** Prompt-ready derived text (documents), if any. */
  text?: string;
  /** A derived preview image (DXF plan, normalized PNG/JPEG), if any. */
  preview?: { media_type: string; bytes: Uint8Array };
  /** Images: the source size and the size of the normalized preview. */
  image?: { width: number; height: number; source_width: number; source_height: number };
  /** Audio: what the container declares (absent fields are not declared, e.g. raw PCM). */
  audio?: AudioInfo;
  /** PDF: its page count. */
  pdf?: { pages: number };
}

/** Signatures a declared type must carry at its start (after an ID3 tag for FLAC). */
const REQUIRED: Partial<Record<SupportedMediaType, StrongKind>> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'audio/wav': 'wav',
  'audio/opus': 'ogg',
  'audio/flac': 'flac',
  'audio/mp4': 'mp4',
  'audio/m4a': 'mp4',
  'audio/webm': 'webm',
};

/** Signatures a type may carry; any other strong signature is a mismatch. */
function allowedStrong(t: SupportedMediaType): readonly StrongKind[] {
  if (t === 'application/pdf') return ['pdf'];
  if (t === 'audio/aac') return ['adif'];
  const required = REQUIRED[t];
  return required ? [required] : [];
}

/** An ASCII DXF opens with the pair `0` / `SECTION`, possibly after `999` comment pairs. */
function looksLikeDxf(bytes: Uint8Array): boolean {
  const lines = new TextDecoder().decode(bytes.subarray(0, 4096)).split(/\r\n|\n|\r/);
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const code = lines[i]!.trim();
    if (code === '999') continue;
    return code === '0' && lines[i + 1]!.trim() === 'SECTION';
  }
  return false;
}

function inferType(input: MediaInput, s: Sniffed): SupportedMediaType {
  const ext = typeFromExtension(input.file_name);
  switch (s.strong) {
    case 'png':
      return 'image/png';
    case 'jpeg':
      return 'image/jpeg';
    case 'pdf':
      return 'application/pdf';
    case 'wav':
      return 'audio/wav';
    case 'ogg':
      return 'audio/opus';
    case 'flac':
      return 'audio/flac';
    case 'webm':
      return 'audio/webm';
    case 'adif':
      return 'audio/aac';
    case 'mp4':
      return ext === 'audio/m4a' || startsWith(input.bytes, 'M4A ', 8) ? 'audio/m4a' : 'audio/mp4';
  }
  if (ext) return ext;
  if (s.weak === 'mpeg') return 'audio/mpeg';
  if (s.weak === 'adts') return 'audio/aac';
  if (isUtf8Text(input.bytes)) return looksLikeDxf(input.bytes) ? 'application/dxf' : 'text/plain';
  throw unsupported(
    `the media type of ${JSON.stringify(input.file_name)} cannot be determined from its content or name`,
  );
}

function checkMatches(t: SupportedMediaType, s: Sniffed, how: string): void {
  if (s.strong && !allowedStrong(t).includes(s.strong))
    throw unsupported(`${how} ${t} but the content is ${KIND_NAMES[s.strong]}`);
  const required = REQUIRED[t];
  if (required && s.strong !== required)
    throw unsupported(`${how} ${t} but the content is not ${KIND_NAMES[required]}`);
  if ((t === 'audio/mpeg' || t === 'audio/mpga') && s.weak === 'adts')
    throw unsupported(`${how} ${t} but the content is ${KIND_NAMES.adts}`);
  if (t === 'audio/aac' && s.weak === 'mpeg')
    throw unsupported(`${how} ${t} but the content is ${KIND_NAMES.mpeg}`);
}

export async function normalizeMedia(input: MediaInput, signal?: AbortSignal): Promise<NormalizedMedia> {
  const { bytes } = input;
  if (bytes.byteLength > MAX_RAW_UPLOAD_BYTES)
    throw tooLarge(
      `upload is ${bytes.byteLength} bytes; uploads are limited to ${MAX_RAW_UPLOAD_BYTES} bytes`,
    );
  if (bytes.byteLength === 0) throw invalid('upload is empty');
  signal?.throwIfAborted();
  const declared = canonicalMediaType(input.media_type);
  if (typeof declared === 'object') throw unsupported(`media type ${declared.unknown} is not supported`);
  const sniffed = sniff(bytes);
  if (sniffed.strong === 'executable')
    throw unsupported(`the content is ${sniffed.label}; executables are not accepted as assets`);
  const mediaType = declared ?? inferType(input, sniffed);
  checkMatches(mediaType, sniffed, declared ? 'declared' : 'inferred');

  if (isTextType(mediaType)) return { media_type: mediaType, text: normalizeText(bytes, mediaType) };
  if (isAudioType(mediaType)) return { media_type: mediaType, audio: validateAudio(bytes, mediaType) };
  if (mediaType === 'image/png' || mediaType === 'image/jpeg') {
    const { normalizeImage } = await import('./image.ts');
    const img = await normalizeImage(bytes, mediaType, signal);
    const { preview, ...image } = img;
    return { media_type: mediaType, preview, image };
  }
  if (mediaType === 'application/pdf') {
    const { normalizePdf } = await import('./pdf.ts');
    const pdf = await normalizePdf(bytes, signal);
    return { media_type: mediaType, ...(pdf.text ? { text: pdf.text } : {}), pdf: { pages: pdf.pages } };
  }
  const { normalizeDxf } = await import('./dxf.ts');
  const dxf = await normalizeDxf(bytes, signal);
  return { media_type: mediaType, text: dxf.text, ...(dxf.preview ? { preview: dxf.preview } : {}) };
}
