// Bounds-checked reads over an upload: any read past the end is a truncated file, reported as
// `invalid_asset_content` naming the format, never a RangeError.
import { invalid } from './errors.ts';

export class ByteReader {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly what: string;

  constructor(bytes: Uint8Array, what: string) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.what = what;
  }

  get length(): number {
    return this.bytes.byteLength;
  }

  need(offset: number, n: number): void {
    if (offset < 0 || n < 0 || offset + n > this.bytes.byteLength)
      throw invalid(`${this.what} is truncated (needs ${offset + n} bytes, has ${this.bytes.byteLength})`);
  }
  u8(o: number): number {
    this.need(o, 1);
    return this.bytes[o]!;
  }
  u16be(o: number): number {
    this.need(o, 2);
    return this.view.getUint16(o, false);
  }
  u16le(o: number): number {
    this.need(o, 2);
    return this.view.getUint16(o, true);
  }
  u24be(o: number): number {
    this.need(o, 3);
    return (this.bytes[o]! << 16) | (this.bytes[o + 1]! << 8) | this.bytes[o + 2]!;
  }
  u32be(o: number): number {
    this.need(o, 4);
    return this.view.getUint32(o, false);
  }
  u32le(o: number): number {
    this.need(o, 4);
    return this.view.getUint32(o, true);
  }
  u64be(o: number): number {
    this.need(o, 8);
    return Number(this.view.getBigUint64(o, false));
  }
  u64le(o: number): number {
    this.need(o, 8);
    return Number(this.view.getBigUint64(o, true));
  }
  ascii(o: number, n: number): string {
    this.need(o, n);
    return latin1(this.bytes.subarray(o, o + n));
  }
}

export const latin1 = (b: Uint8Array): string =>
  Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

export function startsWith(bytes: Uint8Array, magic: readonly number[] | string, at = 0): boolean {
  const m = typeof magic === 'string' ? [...magic].map((c) => c.charCodeAt(0)) : magic;
  if (bytes.byteLength < at + m.length) return false;
  for (let i = 0; i < m.length; i++) if (bytes[at + i] !== m[i]) return false;
  return true;
}

/** Length of an ID3v2 tag at `at` (header, body and optional footer), or 0 without one. */
export function id3Length(bytes: Uint8Array, at = 0): number {
  if (!startsWith(bytes, 'ID3', at) || bytes.byteLength < at + 10) return 0;
  const s = bytes.subarray(at + 6, at + 10);
  if (s.some((b) => b & 0x80)) return 0;
  const size = (s[0]! << 21) | (s[1]! << 14) | (s[2]! << 7) | s[3]!;
  const footer = bytes[at + 5]! & 0x10 ? 10 : 0;
  return 10 + size + footer;
}
