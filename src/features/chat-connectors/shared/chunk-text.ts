// Splitting an answer into messages a chat platform accepts. Limits are counted in Unicode scalar
// values (code points), as Telegram counts them, so a surrogate pair is never cut in half.

/**
 * Chunks of at most `max` scalar values whose concatenation is exactly `text`. A cut prefers the
 * last line break, else the last space, in the final fifth of the window, so words survive.
 */
export function chunkText(text: string, max: number): string[] {
  if (max < 1) throw new Error('chunk size must be at least 1');
  const chars = Array.from(text);
  if (chars.length <= max) return chars.length === 0 ? [] : [text];
  const out: string[] = [];
  let start = 0;
  while (start < chars.length) {
    let end = Math.min(start + max, chars.length);
    if (end < chars.length) {
      const floor = start + Math.floor(max * 0.8);
      const cut = lastBreak(chars, floor, end);
      if (cut > start) end = cut;
    }
    out.push(chars.slice(start, end).join(''));
    start = end;
  }
  return out;
}

/** The index just after the last newline (else space) in [floor, end), or -1. */
function lastBreak(chars: string[], floor: number, end: number): number {
  for (const sep of ['\n', ' ']) {
    for (let i = end - 1; i >= floor; i--) if (chars[i] === sep) return i + 1;
  }
  return -1;
}

/** Length in Unicode scalar values. */
export const scalarLength = (text: string): number => Array.from(text).length;
