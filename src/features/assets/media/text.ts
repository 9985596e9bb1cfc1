// Text documents (text/plain, text/csv, text/markdown, application/json): strict UTF-8 without NUL
// bytes, JSON that parses, at most 4 MiB (the derived text is the whole document).
import { invalid, limitExceeded } from './errors.ts';
import { MAX_TEXT_BYTES } from './limits.ts';

/** Decodes strict UTF-8 (a leading BOM is dropped) or explains why the bytes are not text. */
export function decodeUtf8(bytes: Uint8Array, what: string): string {
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw invalid(`${what} contains a NUL byte at offset ${nul}: binary content is not text`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw invalid(`${what} is not valid UTF-8`);
  }
}

export const isUtf8Text = (bytes: Uint8Array): boolean => {
  if (bytes.indexOf(0) >= 0) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
};

export function checkTextSize(byteLength: number, what: string): void {
  if (byteLength > MAX_TEXT_BYTES)
    throw limitExceeded(`${what} is ${byteLength} bytes; derived text is limited to ${MAX_TEXT_BYTES} bytes`);
}

export function normalizeText(bytes: Uint8Array, mediaType: string): string {
  checkTextSize(bytes.byteLength, mediaType);
  const text = decodeUtf8(bytes, mediaType);
  if (mediaType === 'application/json') {
    try {
      JSON.parse(text);
    } catch (err) {
      throw invalid(`application/json content does not parse: ${(err as Error).message}`);
    }
  }
  return text;
}
