// Bounded capture of one output stream. A chatty command must not grow daemon memory without
// limit, and the end of the output (where errors usually are) matters as much as the start, so
// we keep the first half and the last half of the cap and say explicitly what was dropped.

export interface CapturedText {
  text: string;
  truncated: boolean;
  /** Bytes the process wrote, including the ones that were dropped. */
  total_bytes: number;
}

export class CappedOutput {
  private readonly cap: number;
  private readonly headCap: number;
  private readonly tailCap: number;
  private readonly head: Buffer[] = [];
  private headLen = 0;
  private tail: Buffer[] = [];
  private tailLen = 0;
  private total = 0;

  constructor(capBytes: number) {
    this.cap = Math.max(1, Math.floor(capBytes));
    this.headCap = Math.ceil(this.cap / 2);
    this.tailCap = this.cap - this.headCap;
  }

  push(chunk: Buffer): void {
    this.total += chunk.length;
    let rest = chunk;
    if (this.headLen < this.headCap) {
      const take = Math.min(rest.length, this.headCap - this.headLen);
      this.head.push(rest.subarray(0, take));
      this.headLen += take;
      rest = rest.subarray(take);
    }
    if (rest.length === 0) return;
    this.tail.push(rest);
    this.tailLen += rest.length;
    // Drop whole chunks from the front while what remains still covers the tail budget.
    while (this.tail.length > 1 && this.tailLen - this.tail[0]!.length >= this.tailCap) {
      this.tailLen -= this.tail.shift()!.length;
    }
  }

  result(label: string): CapturedText {
    const head = Buffer.concat(this.head);
    const tailAll = Buffer.concat(this.tail);
    if (this.total <= this.cap) {
      return {
        text: Buffer.concat([head, tailAll]).toString('utf8'),
        truncated: false,
        total_bytes: this.total,
      };
    }
    const tail = tailAll.subarray(Math.max(0, tailAll.length - this.tailCap));
    const headText = head.subarray(0, utf8SafeEnd(head)).toString('utf8');
    const tailText = tail.subarray(utf8SafeStart(tail)).toString('utf8');
    const omitted = this.total - head.length - tail.length;
    const marker =
      `\n[... ${omitted} bytes of ${label} omitted: output exceeded the ${this.cap}-byte cap;` +
      ` showing the first ${head.length} and the last ${tail.length} bytes ...]\n`;
    return { text: headText + marker + tailText, truncated: true, total_bytes: this.total };
  }
}

/** Index after the last complete UTF-8 sequence, so a cut never produces a replacement char. */
export function utf8SafeEnd(buf: Buffer): number {
  let i = buf.length - 1;
  let back = 0;
  while (i >= 0 && back < 4 && (buf[i]! & 0xc0) === 0x80) {
    i--;
    back++;
  }
  if (i < 0) return buf.length;
  const lead = buf[i]!;
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return buf.length - i >= need ? buf.length : i;
}

/** Index of the first byte that is not a UTF-8 continuation byte (at most 3 skipped). */
export function utf8SafeStart(buf: Buffer): number {
  let i = 0;
  while (i < buf.length && i < 3 && (buf[i]! & 0xc0) === 0x80) i++;
  return i;
}
