// Byte and text helpers shared by the file tools.
import { createHash } from 'node:crypto';

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

const strict = new TextDecoder('utf-8', { fatal: true });

/** The text of `data` when it is valid UTF-8 without NUL bytes, else null (treated as binary). */
export function decodeText(data: Uint8Array): string | null {
  if (data.includes(0)) return null;
  try {
    return strict.decode(data);
  } catch {
    return null;
  }
}

/** Length of `data` without a trailing, incomplete UTF-8 sequence (left by a cut at a byte limit). */
export function completeUtf8Length(data: Uint8Array, end = data.length): number {
  let i = end;
  let back = 0;
  while (i > 0 && back < 4 && (data[i - 1]! & 0xc0) === 0x80) {
    i--;
    back++;
  }
  if (i === 0) return end;
  const lead = data[i - 1]!;
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return need > back + 1 ? i - 1 : end;
}

/** Non-overlapping occurrences of `needle` in `text` (needle is never empty here). */
export function countOccurrences(text: string, needle: string): number {
  let count = 0;
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) count++;
  return count;
}

export interface Replacement {
  text: string;
  /** Occurrences found before replacing. */
  matches: number;
  replaced: number;
}

/** Exact replacement: the first occurrence, or all of them with `all`. */
export function replaceExact(text: string, oldText: string, newText: string, all: boolean): Replacement {
  const matches = countOccurrences(text, oldText);
  if (matches === 0) return { text, matches, replaced: 0 };
  if (all) return { text: text.split(oldText).join(newText), matches, replaced: matches };
  const at = text.indexOf(oldText);
  return { text: text.slice(0, at) + newText + text.slice(at + oldText.length), matches, replaced: 1 };
}

/**
 * Why an exact match failed, when a near miss explains it: line endings or indentation. Models
 * usually copy text from read_file output, so these two are the common causes.
 */
export function nearMissHint(text: string, oldText: string): string {
  if (!oldText.includes('\r') && text.includes('\r\n') && text.includes(oldText.replace(/\n/g, '\r\n'))) {
    return ' The file uses CRLF line endings: include `\\r\\n` in old_text.';
  }
  const squash = (s: string) =>
    s
      .split(/\r?\n/)
      .map((l) => l.trim())
      .join('\n');
  const wanted = squash(oldText).trim();
  if (wanted.length > 0) {
    const lines = text.split(/\r?\n/);
    const first = wanted.split('\n')[0]!;
    for (let i = 0; i < lines.length; i++) {
      if (lines[i]!.trim() !== first) continue;
      const window = squash(lines.slice(i, i + wanted.split('\n').length).join('\n'));
      if (window === wanted) {
        return ` Text matching apart from indentation or spacing starts at line ${i + 1}; copy it exactly (read_file with start_line=${i + 1}).`;
      }
    }
  }
  return ' Read the file again (read_file) and copy the exact text, including whitespace.';
}
