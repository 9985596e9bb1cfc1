// Text documents (text/plain, text/csv, text/markdown, application/json): strict UTF-8 without NUL
// bytes, JSON that parses. The whole upload (up to 12 MiB) is validated and kept; the derived text
// models read is bounded to 4 MiB, cut with a visible marker (docs/decisions.md, Assets: media).
import { invalid } from './errors.ts';
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

/** The document's text within 4 MiB: whole, or cut at a character boundary with a marker saying so. */
export function boundText(text: string, byteLength: number): string {
  if (byteLength <= MAX_TEXT_BYTES) return text;
  const marker = (shown: number) => `\n\n[truncated: the first ${shown} of ${byteLength} bytes are shown]\n`;
  const budget = MAX_TEXT_BYTES - Buffer.byteLength(marker(MAX_TEXT_BYTES));
  const bytes = Buffer.from(text);
  let cut = budget;
  while (cut > 0 && (bytes[cut]! & 0xc0) === 0x80) cut--; // not inside a multi-byte character
  return bytes.subarray(0, cut).toString() + marker(cut);
}

export function normalizeText(bytes: Uint8Array, mediaType: string): string {
  const text = decodeUtf8(bytes, mediaType);
  if (mediaType === 'application/json') {
    try {
      JSON.parse(text);
    } catch (err) {
      throw invalid(`application/json content does not parse: ${(err as Error).message}`);
    }
  }
  return boundText(text, bytes.byteLength);
}
