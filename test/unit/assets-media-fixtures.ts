// Real media files built byte by byte for the media normalizer tests (test/unit/assets-media*.test.ts):
// each builder writes the container structure its format defines, with the fields a test varies.
import { deflateSync } from 'node:zlib';

const u16le = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
};
const u32le = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
};
const u32be = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

export interface WavOptions {
  rate?: number;
  channels?: number;
  bits?: number;
  frames?: number;
  /** Overrides the data chunk's declared size (e.g. a header declaring hours, or a sentinel). */
  dataSize?: number;
  riffSize?: number;
}

export function wav(o: WavOptions = {}): Buffer {
  const rate = o.rate ?? 16_000;
  const channels = o.channels ?? 1;
  const bits = o.bits ?? 16;
  const align = (channels * bits) / 8;
  const data = Buffer.alloc((o.frames ?? rate / 10) * align);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37) & 0xff;
  const fmt = Buffer.concat([
    u16le(1),
    u16le(channels),
    u32le(rate),
    u32le(rate * align),
    u16le(align),
    u16le(bits),
  ]);
  const body = Buffer.concat([
    Buffer.from('WAVE'),
    Buffer.from('fmt '),
    u32le(16),
    fmt,
    Buffer.from('data'),
    u32le(o.dataSize ?? data.length),
    data,
  ]);
  return Buffer.concat([Buffer.from('RIFF'), u32le(o.riffSize ?? body.length), body]);
}

/** MPEG-1 Layer III frames, 128 kbps, 44.1 kHz, stereo (417 bytes each), optionally after an ID3v2 tag. */
export function mp3(frames = 3, id3 = false): Buffer {
  const frame = Buffer.alloc(417);
  frame.set([0xff, 0xfb, 0x90, 0x00]);
  const parts = Array.from({ length: frames }, () => frame);
  if (id3) {
    const tagBody = Buffer.alloc(20);
    parts.unshift(Buffer.concat([Buffer.from('ID3'), Buffer.from([4, 0, 0, 0, 0, 0, 20]), tagBody]));
  }
  return Buffer.concat(parts);
}

export function flac(o: { rate?: number; channels?: number; totalSamples?: number } = {}): Buffer {
  const rate = o.rate ?? 44_100;
  const channels = o.channels ?? 2;
  const bps = 16;
  const total = o.totalSamples ?? rate * 2;
  const info = Buffer.alloc(34);
  info.writeUInt16BE(4096, 0);
  info.writeUInt16BE(4096, 2);
  // 20 bits rate, 3 bits channels-1, 5 bits bps-1, 36 bits total samples.
  const packed =
    (BigInt(rate) << 44n) | (BigInt(channels - 1) << 41n) | (BigInt(bps - 1) << 36n) | BigInt(total);
  info.writeBigUInt64BE(packed, 10);
  const header = Buffer.from([0x80, 0, 0, 34]);
  const frame = Buffer.from([0xff, 0xf8, 0x69, 0x08, 0x00, 0x00, 0x00]);
  return Buffer.concat([Buffer.from('fLaC'), header, info, frame]);
}

function oggPage(granule: bigint, seq: number, headerType: number, packet: Buffer): Buffer {
  const lacing: number[] = [];
  let left = packet.length;
  while (left >= 255) {
    lacing.push(255);
    left -= 255;
  }
  lacing.push(left);
  const h = Buffer.alloc(27);
  h.write('OggS', 0, 'latin1');
  h[5] = headerType;
  h.writeBigUInt64LE(granule, 6);
  h.writeUInt32LE(0x4b484549, 14);
  h.writeUInt32LE(seq, 18);
  h[26] = lacing.length;
  return Buffer.concat([h, Buffer.from(lacing), packet]);
}

export function oggOpus(o: { channels?: number; seconds?: number } = {}): Buffer {
  const channels = o.channels ?? 2;
  const head = Buffer.concat([
    Buffer.from('OpusHead'),
    Buffer.from([1, channels]),
    u16le(312),
    u32le(48_000),
    u16le(0),
    Buffer.from([0]),
  ]);
  const tags = Buffer.concat([Buffer.from('OpusTags'), u32le(4), Buffer.from('test'), u32le(0)]);
  const audio = Buffer.from([0xfc, 0xff, 0xfe]);
  const granule = BigInt(Math.round((o.seconds ?? 1) * 48_000) + 312);
  return Buffer.concat([oggPage(0n, 0, 2, head), oggPage(0n, 1, 0, tags), oggPage(granule, 2, 4, audio)]);
}

/** ADTS AAC-LC frames; `rateIndex` 4 is 44.1 kHz, `config` 2 is stereo. */
export function adts(frames = 4, rateIndex = 4, config = 2): Buffer {
  const length = 7 + 32;
  const frame = Buffer.alloc(length);
  frame[0] = 0xff;
  frame[1] = 0xf1;
  frame[2] = (1 << 6) | (rateIndex << 2) | (config >> 2);
  frame[3] = ((config & 3) << 6) | (length >> 11);
  frame[4] = (length >> 3) & 0xff;
  frame[5] = ((length & 7) << 5) | 0x1f;
  frame[6] = 0xfc;
  return Buffer.concat(Array.from({ length: frames }, () => frame));
}

const box = (type: string, ...parts: Buffer[]): Buffer => {
  const body = Buffer.concat(parts);
  return Buffer.concat([u32be(body.length + 8), Buffer.from(type, 'latin1'), body]);
};

export function mp4(
  o: { handler?: string; channels?: number; rate?: number; seconds?: number; brand?: string } = {},
) {
  const timescale = 1000;
  const mvhd = Buffer.alloc(100);
  mvhd.writeUInt32BE(timescale, 12);
  mvhd.writeUInt32BE(Math.round((o.seconds ?? 2) * timescale), 16);
  const hdlr = Buffer.concat([
    Buffer.alloc(8),
    Buffer.from(o.handler ?? 'soun'),
    Buffer.alloc(12),
    Buffer.from([0]),
  ]);
  const entry = Buffer.alloc(28);
  entry.writeUInt16BE(1, 6);
  entry.writeUInt16BE(o.channels ?? 2, 16);
  entry.writeUInt16BE(16, 18);
  entry.writeUInt32BE((o.rate ?? 44_100) * 65_536, 24);
  const stsd = box('stsd', Buffer.alloc(4), u32be(1), box('mp4a', entry));
  const trak = box('trak', box('mdia', box('hdlr', hdlr), box('minf', box('stbl', stsd))));
  const brand = o.brand ?? 'M4A ';
  return Buffer.concat([
    box('ftyp', Buffer.from(brand), u32be(0), Buffer.from(`${brand}isom`)),
    box('moov', box('mvhd', mvhd), trak),
    box('mdat', Buffer.alloc(64, 0x21)),
  ]);
}

/** An EBML element with an 8-byte size (or the unknown size). */
const ebml = (id: number[], body: Buffer | null): Buffer => {
  if (body === null) return Buffer.from([...id, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  const size = Buffer.alloc(8);
  size.writeBigUInt64BE(BigInt(body.length) | (1n << 56n));
  return Buffer.concat([Buffer.from(id), size, body]);
};
const f64 = (n: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(n);
  return b;
};

export function webm(
  o: { codec?: string; docType?: string; channels?: number; seconds?: number } = {},
): Buffer {
  const header = ebml([0x1a, 0x45, 0xdf, 0xa3], ebml([0x42, 0x82], Buffer.from(o.docType ?? 'webm')));
  const info = ebml(
    [0x15, 0x49, 0xa9, 0x66],
    Buffer.concat([
      ebml([0x2a, 0xd7, 0xb1], Buffer.from([0x0f, 0x42, 0x40])),
      ebml([0x44, 0x89], f64((o.seconds ?? 3) * 1000)),
    ]),
  );
  const track = ebml(
    [0xae],
    Buffer.concat([
      ebml([0x83], Buffer.from([2])),
      ebml([0x86], Buffer.from(o.codec ?? 'A_OPUS')),
      ebml([0xe1], Buffer.concat([ebml([0xb5], f64(48_000)), ebml([0x9f], Buffer.from([o.channels ?? 1]))])),
    ]),
  );
  const tracks = ebml([0x16, 0x54, 0xae, 0x6b], track);
  const cluster = Buffer.concat([
    ebml([0x1f, 0x43, 0xb6, 0x75], null),
    ebml([0xe7], Buffer.from([0])),
    ebml([0xa3], Buffer.from([0x81, 0, 0, 0x80, 0xfc, 0xff, 0xfe])),
  ]);
  return Buffer.concat([header, ebml([0x18, 0x53, 0x80, 0x67], null), info, tracks, cluster]);
}

/** A valid PDF with one Helvetica text line per page and a correct xref table. */
export function pdf(pages: number, textOf = (i: number) => `Page ${i + 1} says hello`): Buffer {
  const objects: string[] = [];
  const kids: string[] = [];
  const first = 4;
  objects[1] = '<< /Type /Catalog /Pages 2 0 R >>';
  objects[3] = '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>';
  for (let i = 0; i < pages; i++) {
    const pageId = first + i * 2;
    const contentId = pageId + 1;
    kids.push(`${pageId} 0 R`);
    objects[pageId] =
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents ${contentId} 0 R >>`;
    const stream = `BT /F1 12 Tf 72 720 Td (${textOf(i)}) Tj ET`;
    objects[contentId] = `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`;
  }
  objects[2] = `<< /Type /Pages /Kids [${kids.join(' ')}] /Count ${pages} >>`;
  let out = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n';
  const offsets: number[] = [];
  for (let id = 1; id < objects.length; id++) {
    offsets[id] = Buffer.byteLength(out, 'latin1');
    out += `${id} 0 obj\n${objects[id]}\nendobj\n`;
  }
  const xref = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objects.length}\n0000000000 65535 f \n`;
  for (let id = 1; id < objects.length; id++) out += `${String(offsets[id]).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/** A PDF whose one content stream is Flate-compressed and inflates to `inflated` bytes. */
export function pdfWithFlateBomb(inflated: number): Buffer {
  const data = deflateSync(Buffer.alloc(inflated, 0x20), { level: 9 });
  const head = Buffer.from(
    '%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n' +
      '2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n' +
      '3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>\nendobj\n' +
      `4 0 obj\n<< /Length ${data.length} /Filter /FlateDecode >>\nstream\n`,
    'latin1',
  );
  return Buffer.concat([head, data, Buffer.from('\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n')]);
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (b: Buffer): number => {
  let c = 0xffffffff;
  for (const x of b) c = crcTable[(c ^ x) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
const pngChunk = (type: string, data: Buffer): Buffer => {
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  return Buffer.concat([u32be(data.length), td, u32be(crc32(td))]);
};

/**
 * A real PNG of `width`×`height` all-zero 1-bit grey pixels: tiny on disk (zeros deflate ~1000:1)
 * however large the canvas it declares — the shape of a decompression bomb.
 */
export function zeroPng(
  width: number,
  height: number,
  o: { bitDepth?: number; colorType?: number } = {},
): Buffer {
  const bitDepth = o.bitDepth ?? 1;
  const colorType = o.colorType ?? 0;
  const channels = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[colorType]!;
  const rowBytes = 1 + Math.ceil((width * channels * bitDepth) / 8);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = bitDepth;
  ihdr[9] = colorType;
  // Deflate the zero rows in slices so a huge canvas does not need one huge buffer.
  const rows = Math.min(height, Math.floor((64 * 1024 * 1024) / rowBytes));
  const idat = deflateSync(Buffer.alloc(rowBytes * rows), { level: 9 });
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', idat),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

export function dxf(entities: string[]): Buffer {
  const head =
    '999|made by the kheish media tests|0|SECTION|2|TABLES|0|TABLE|2|LAYER|0|LAYER|2|WALLS|0|ENDTAB|0|ENDSEC';
  const lines = [...head.split('|'), '0', 'SECTION', '2', 'ENTITIES', ...entities, '0', 'ENDSEC', '0', 'EOF'];
  return Buffer.from(lines.join('\r\n') + '\r\n');
}

export const dxfLine = (x1: number, y1: number, x2: number, y2: number, layer = 'WALLS'): string[] => [
  '0',
  'LINE',
  '8',
  layer,
  '10',
  `${x1}`,
  '20',
  `${y1}`,
  '11',
  `${x2}`,
  '21',
  `${y2}`,
];
export const dxfCircle = (cx: number, cy: number, r: number): string[] => [
  '0',
  'CIRCLE',
  '8',
  'FURNITURE',
  '10',
  `${cx}`,
  '20',
  `${cy}`,
  '40',
  `${r}`,
];
export const dxfArc = (cx: number, cy: number, r: number, a: number, b: number): string[] => [
  '0',
  'ARC',
  '8',
  'DOORS',
  '10',
  `${cx}`,
  '20',
  `${cy}`,
  '40',
  `${r}`,
  '50',
  `${a}`,
  '51',
  `${b}`,
];
export const dxfText = (s: string): string[] => ['0', 'TEXT', '8', 'LABELS', '10', '1', '20', '1', '1', s];
export const dxfLwPolyline = (points: [number, number][], closed: boolean): string[] => [
  '0',
  'LWPOLYLINE',
  '8',
  'WALLS',
  '90',
  `${points.length}`,
  '70',
  closed ? '1' : '0',
  ...points.flatMap(([x, y]) => ['10', `${x}`, '20', `${y}`]),
];

/** An ELF header (x86-64) followed by zeros: what a renamed Linux executable starts with. */
export function elf(): Buffer {
  const b = Buffer.alloc(256);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]);
  b.writeUInt16LE(2, 16);
  b.writeUInt16LE(0x3e, 18);
  return b;
}

/** A DOS stub pointing at a PE header: a renamed Windows executable. */
export function pe(): Buffer {
  const b = Buffer.alloc(512);
  b.write('MZ', 0, 'latin1');
  b.writeUInt32LE(0x80, 0x3c);
  b.write('This program cannot be run in DOS mode.', 0x4e, 'latin1');
  b.write('PE\0\0', 0x80, 'latin1');
  return b;
}
