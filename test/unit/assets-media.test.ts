// The media normalizer (src/features/assets/media, api-core §7.2): supported types and aliases,
// content sniffing against the declared type, text, images (header limits before decode, re-encode
// within 2048 px / 4 MiB), PDF (pre-scan limits, text extraction) and DXF (summary + PNG preview).
// Every file is real: built byte by byte (./assets-media-fixtures.ts) or made with sharp.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import sharp from 'sharp';
import { DaemonError } from '../../src/errors/daemon-error.ts';
import {
  MAX_RAW_UPLOAD_BYTES,
  type MediaInput,
  normalizeMedia,
} from '../../src/features/assets/media/index.ts';
import { scanPdf } from '../../src/features/assets/media/pdf-scan.ts';
import {
  adts,
  dxf,
  dxfArc,
  dxfCircle,
  dxfLine,
  dxfLwPolyline,
  dxfText,
  elf,
  flac,
  mp3,
  mp4,
  oggOpus,
  pdf,
  pdfWithFlateBomb,
  pe,
  wav,
  webm,
  zeroPng,
} from './assets-media-fixtures.ts';

const norm = (bytes: Uint8Array, media_type?: string, file_name = 'upload.bin') =>
  normalizeMedia({ file_name, bytes, ...(media_type !== undefined ? { media_type } : {}) } as MediaInput);

async function refused(p: Promise<unknown>, code: string, detail?: RegExp): Promise<DaemonError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof DaemonError, `expected a DaemonError, got ${err}`);
    assert.equal(err.status, 400);
    assert.equal(err.domain, 'assets');
    assert.equal(err.code, code, err.detail);
    if (detail) assert.match(err.detail, detail);
    return err;
  }
  assert.fail(`expected a refusal with ${code}`);
}

const photo = (width: number, height: number, format: 'png' | 'jpeg') =>
  sharp({ create: { width, height, channels: 3, background: { r: 200, g: 80, b: 20 } } })
    .composite([
      {
        input: Buffer.from(
          `<svg width="${width}" height="${height}"><circle cx="${width / 2}" cy="${height / 2}" r="${Math.min(width, height) / 3}" fill="#0af"/></svg>`,
        ),
      },
    ])
    [format]()
    .toBuffer();

const SAMPLES: Record<string, () => Promise<Uint8Array> | Uint8Array> = {
  'text/plain': () => Buffer.from('hello, assets\n'),
  'text/csv': () => Buffer.from('a,b\n1,2\n'),
  'text/markdown': () => Buffer.from('# Title\n\nbody\n'),
  'application/json': () => Buffer.from('{"ok":true}'),
  'application/pdf': () => pdf(2),
  'application/dxf': () => dxf(dxfLine(0, 0, 10, 0)),
  'image/png': () => photo(64, 32, 'png'),
  'image/jpeg': () => photo(64, 32, 'jpeg'),
  'audio/wav': () => wav(),
  'audio/webm': () => webm(),
  'audio/mpeg': () => mp3(),
  'audio/mpga': () => mp3(),
  'audio/opus': () => oggOpus(),
  'audio/aac': () => adts(),
  'audio/flac': () => flac(),
  'audio/mp4': () => mp4({ brand: 'mp42' }),
  'audio/m4a': () => mp4(),
  'audio/pcm': () => Buffer.alloc(3200, 1),
  'audio/l16': () => Buffer.alloc(3200, 1),
  'audio/l24': () => Buffer.alloc(4800, 1),
};

test('api-core §7.2: every supported media type is accepted under its own name', async () => {
  for (const [type, make] of Object.entries(SAMPLES)) {
    const out = await norm(await make(), type);
    assert.equal(out.media_type, type, type);
  }
});

test('declared types: parameters stripped, case folded, aliases normalized', async () => {
  const cases: [string, Uint8Array, string][] = [
    ['text/x-csv', Buffer.from('a,b\n'), 'text/csv'],
    ['Text/CSV; charset=utf-8', Buffer.from('a,b\n'), 'text/csv'],
    ['image/jpg', await photo(8, 8, 'jpeg'), 'image/jpeg'],
    ['audio/mp3', mp3(), 'audio/mpeg'],
    ['audio/x-mpga', mp3(), 'audio/mpga'],
    ['audio/x-wav', wav(), 'audio/wav'],
    ['audio/wave', wav(), 'audio/wav'],
    ['image/vnd.dxf', dxf(dxfLine(0, 0, 1, 1)), 'application/dxf'],
    ['audio/x-m4a', mp4(), 'audio/m4a'],
    ['audio/x-flac', flac(), 'audio/flac'],
    ['audio/x-aac', adts(), 'audio/aac'],
    ['audio/ogg; codecs=opus', oggOpus(), 'audio/opus'],
    ['audio/webm;codecs=opus', webm(), 'audio/webm'],
    ['audio/x-pcm', Buffer.alloc(8), 'audio/pcm'],
  ];
  for (const [declared, bytes, expected] of cases)
    assert.equal((await norm(bytes, declared)).media_type, expected, declared);
});

test('a missing (or octet-stream) type is inferred from the content, then the file name', async () => {
  assert.equal((await norm(await photo(8, 8, 'png'), undefined, 'x')).media_type, 'image/png');
  assert.equal(
    (await norm(await photo(8, 8, 'jpeg'), 'application/octet-stream', 'x')).media_type,
    'image/jpeg',
  );
  assert.equal((await norm(pdf(1))).media_type, 'application/pdf');
  assert.equal((await norm(wav())).media_type, 'audio/wav');
  assert.equal((await norm(flac())).media_type, 'audio/flac');
  assert.equal((await norm(oggOpus())).media_type, 'audio/opus');
  assert.equal((await norm(webm())).media_type, 'audio/webm');
  assert.equal((await norm(mp4())).media_type, 'audio/m4a');
  assert.equal((await norm(mp4({ brand: 'mp42' }))).media_type, 'audio/mp4');
  assert.equal((await norm(mp3(2, true))).media_type, 'audio/mpeg');
  assert.equal((await norm(mp3(), undefined, 'talk.mpga')).media_type, 'audio/mpga');
  assert.equal((await norm(adts())).media_type, 'audio/aac');
  assert.equal((await norm(Buffer.from('a,b\n'), undefined, 't.csv')).media_type, 'text/csv');
  assert.equal((await norm(Buffer.from('{}'), undefined, 'x.json')).media_type, 'application/json');
  assert.equal((await norm(Buffer.from('# hi'), undefined, 'README.md')).media_type, 'text/markdown');
  assert.equal((await norm(Buffer.alloc(6, 1), undefined, 'voice.l24')).media_type, 'audio/l24');
  assert.equal((await norm(dxf(dxfLine(0, 0, 1, 1)), undefined, 'plan')).media_type, 'application/dxf');
  assert.equal((await norm(Buffer.from('just words'), undefined, 'noext')).media_type, 'text/plain');
  await refused(
    norm(Buffer.from([0x00, 0x9f, 0x92, 0x96]), undefined, 'blob'),
    'unsupported_media_type',
    /cannot be determined/,
  );
});

test('an unsupported declared type is refused', async () => {
  await refused(
    norm(Buffer.from('<html>'), 'text/html'),
    'unsupported_media_type',
    /text\/html is not supported/,
  );
  await refused(norm(Buffer.from('GIF89a'), 'image/gif'), 'unsupported_media_type');
});

test('a renamed executable is refused whatever it is declared as', async () => {
  for (const exe of [elf(), pe()])
    for (const declared of ['text/plain', 'image/png', 'audio/pcm', 'application/dxf', undefined]) {
      const err = await refused(norm(exe, declared, 'notes.txt'), 'unsupported_media_type');
      assert.match(err.detail, /executable/);
    }
});

test('a PNG declared as JPEG (and other mismatches) is refused as unsupported_media_type', async () => {
  const png = await photo(16, 16, 'png');
  await refused(
    norm(png, 'image/jpeg'),
    'unsupported_media_type',
    /declared image\/jpeg but the content is a PNG image/,
  );
  await refused(norm(await photo(16, 16, 'jpeg'), 'image/png'), 'unsupported_media_type', /is a JPEG image/);
  await refused(norm(Buffer.from('plain words'), 'image/png'), 'unsupported_media_type', /not a PNG image/);
  await refused(norm(png, 'text/plain'), 'unsupported_media_type', /PNG/);
  await refused(norm(wav(), 'audio/mpeg'), 'unsupported_media_type', /WAV/);
  await refused(norm(mp3(), 'audio/aac'), 'unsupported_media_type', /MPEG audio/);
  await refused(norm(adts(), 'audio/mpeg'), 'unsupported_media_type', /ADTS/);
  await refused(norm(pdf(1), 'image/png'), 'unsupported_media_type');
  await refused(norm(Buffer.from('a plain note'), 'image/png'), 'unsupported_media_type');
  await refused(norm(flac(), 'audio/pcm'), 'unsupported_media_type', /FLAC/);
});

test('uploads over 12 MiB are refused with asset_too_large; exactly 12 MiB is not', async () => {
  const err = await refused(
    norm(new Uint8Array(MAX_RAW_UPLOAD_BYTES + 1), 'audio/pcm'),
    'asset_too_large',
    /12582913 bytes.*12582912/,
  );
  assert.ok(err.detail.length > 0);
  assert.equal((await norm(new Uint8Array(MAX_RAW_UPLOAD_BYTES), 'audio/pcm')).media_type, 'audio/pcm');
});

test('text types: strict UTF-8, no NUL, JSON must parse; derived text bounded to 4 MiB', async () => {
  const out = await norm(Buffer.from('\ufeffcafé ☕\n'), 'text/plain');
  assert.equal(out.text, 'café ☕\n');
  await refused(norm(Buffer.from([0x61, 0xc3, 0x28]), 'text/plain'), 'invalid_asset_content', /UTF-8/);
  await refused(norm(Buffer.from('a\0b'), 'text/csv'), 'invalid_asset_content', /NUL/);
  await refused(norm(Buffer.from('{"a":'), 'application/json'), 'invalid_asset_content', /does not parse/);
  // Over 4 MiB the document is kept whole; the derived text is bounded, with a marker.
  const long = Buffer.concat([Buffer.alloc(4 * 1024 * 1024 - 100, 0x61), Buffer.from('é'.repeat(1000))]);
  const bounded = (await norm(long, 'text/markdown')).text!;
  assert.ok(Buffer.byteLength(bounded) <= 4 * 1024 * 1024);
  assert.match(bounded, /\[truncated: the first \d+ of 4196204 bytes are shown\]\n$/);
  assert.ok(!bounded.includes('\ufffd'), 'cut on a character boundary');
  const twelve = await norm(Buffer.alloc(MAX_RAW_UPLOAD_BYTES, 0x62), 'text/plain');
  assert.ok(Buffer.byteLength(twelve.text!) <= 4 * 1024 * 1024);
  await refused(norm(new Uint8Array(0), 'text/plain'), 'invalid_asset_content', /empty/);
  // "%PDF-" quoted inside a text document is text, not a PDF.
  assert.equal((await norm(Buffer.from('see %PDF-1.7 spec'), 'text/plain')).text, 'see %PDF-1.7 spec');
});

test('images are decoded and re-encoded: the preview is the normalized image, raw bytes untouched', async () => {
  const png = await photo(300, 200, 'png');
  const copy = Buffer.from(png);
  const out = await norm(png, 'image/png');
  assert.deepEqual(Buffer.from(png), copy, 'the input bytes are not modified');
  assert.equal(out.preview?.media_type, 'image/png');
  const meta = await sharp(out.preview!.bytes).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ['png', 300, 200]);
  assert.deepEqual(out.image, { width: 300, height: 200, source_width: 300, source_height: 200 });
  const jpeg = await norm(await photo(40, 30, 'jpeg'), 'image/jpeg');
  assert.equal(jpeg.preview?.media_type, 'image/jpeg');
  assert.equal((await sharp(jpeg.preview!.bytes).metadata()).format, 'jpeg');
});

test('an image over 2048 px is normalized down to a 2048 px edge, aspect kept', async () => {
  const out = await norm(await photo(3000, 1000, 'jpeg'), 'image/jpeg');
  const meta = await sharp(out.preview!.bytes).metadata();
  assert.deepEqual([meta.width, meta.height], [2048, 683]);
  assert.ok(out.preview!.bytes.byteLength <= 4 * 1024 * 1024);
  assert.equal(out.image?.source_width, 3000);
});

test('a noisy image whose re-encode exceeds 4 MiB is shrunk until it fits', async () => {
  const noise = randomBytes(1600 * 1600 * 3);
  const png = await sharp(noise, { raw: { width: 1600, height: 1600, channels: 3 } })
    .png({ compressionLevel: 1 })
    .toBuffer();
  assert.ok(png.byteLength > 4 * 1024 * 1024 && png.byteLength <= MAX_RAW_UPLOAD_BYTES);
  const out = await norm(png, 'image/png');
  assert.ok(out.preview!.bytes.byteLength <= 4 * 1024 * 1024);
  assert.ok(out.image!.width < 1600, `shrunk to ${out.image!.width} px`);
});

test('decompression bombs are refused from the header, before any decode', async () => {
  const bomb = zeroPng(20_000, 20_000);
  assert.ok(bomb.byteLength < 200 * 1024, `the bomb is small on disk (${bomb.byteLength} bytes)`);
  await refused(
    norm(bomb, 'image/png'),
    'asset_limit_exceeded',
    /20000×20000 px; the source edge is limited to 16384/,
  );
  await refused(
    norm(zeroPng(10_000, 6_000), 'image/png'),
    'asset_limit_exceeded',
    /area is limited to 50000000/,
  );
  // 16-bit RGBA: 40 Mpx × 8 bytes = 320 MB to decode, over 256 MiB.
  await refused(
    norm(zeroPng(8_000, 5_000, { bitDepth: 16, colorType: 6 }), 'image/png'),
    'asset_limit_exceeded',
    /decoding is limited to 268435456 bytes/,
  );
  const jpeg = Buffer.from(await photo(16, 16, 'jpeg'));
  const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
  jpeg.writeUInt16BE(30_000, sof + 5);
  await refused(norm(jpeg, 'image/jpeg'), 'asset_limit_exceeded', /source edge/);
});

test('a corrupt image is refused with invalid_asset_content', async () => {
  const png = await photo(64, 64, 'png');
  await refused(norm(png.subarray(0, 60), 'image/png'), 'invalid_asset_content');
  await refused(norm(Buffer.from([0xff, 0xd8, 0xff, 0xd9]), 'image/jpeg'), 'invalid_asset_content', /SOF/);
});

test('PDF: text extracted page by page; pages counted', async () => {
  const out = await norm(pdf(3), 'application/pdf');
  assert.deepEqual(out.pdf, { pages: 3 });
  assert.match(out.text!, /Page 1 says hello[\s\S]*Page 2 says hello[\s\S]*Page 3 says hello/);
});

test('PDF: 129 pages refused, 128 accepted', async () => {
  await refused(norm(pdf(129), 'application/pdf'), 'asset_limit_exceeded', /129 pages; the limit is 128/);
  assert.deepEqual((await norm(pdf(128), 'application/pdf')).pdf, { pages: 128 });
});

test('PDF: object, stream and inflated stream limits from the pre-scan', async () => {
  // 2,049 content streams: 1,024 pages have 1,024 streams, so use the stream count directly.
  const many = pdf(1, () => 'x');
  const extra = Array.from(
    { length: 2_049 },
    (_, i) => `${100 + i} 0 obj\n<< /Length 1 >>\nstream\nx\nendstream\nendobj\n`,
  );
  const streams = Buffer.concat([
    many.subarray(0, many.indexOf('xref')),
    Buffer.from(extra.join('')),
    Buffer.from('%%EOF\n'),
  ]);
  await refused(norm(streams, 'application/pdf'), 'asset_limit_exceeded', /2048 streams/);
  const objs = Array.from({ length: 10_001 }, (_, i) => `${100 + i} 0 obj\nnull\nendobj\n`);
  const objects = Buffer.concat([
    many.subarray(0, many.indexOf('xref')),
    Buffer.from(objs.join('')),
    Buffer.from('%%EOF\n'),
  ]);
  await refused(norm(objects, 'application/pdf'), 'asset_limit_exceeded', /objects; the limit is 10000/);
  // A 13 MiB content stream compressed to a few KiB: refused before PDF.js inflates it.
  const bomb = pdfWithFlateBomb(13 * 1024 * 1024);
  assert.ok(bomb.byteLength < 100 * 1024);
  await refused(norm(bomb, 'application/pdf'), 'asset_limit_exceeded', /per-stream limit/);
});

test('PDF pre-scan: an incremental update rewriting every page adds no page', () => {
  const base = pdf(100);
  const text = base.toString('latin1');
  const rewrites = [...text.matchAll(/(\d+) 0 obj\n(<< \/Type \/Page .*?>>)\nendobj\n/g)].map(
    (m) => `${m[1]} 0 obj\n${m[2]}\nendobj\n`,
  );
  assert.equal(rewrites.length, 100);
  const updated = Buffer.concat([base, Buffer.from(rewrites.join('') + '%%EOF\n', 'latin1')]);
  assert.equal(scanPdf(updated).pages, 100);
  assert.equal(scanPdf(Buffer.concat([updated, Buffer.from(rewrites.join(''), 'latin1')])).pages, 100);
});

test('PDF: garbage after a PDF header is invalid content', async () => {
  await refused(
    norm(Buffer.from('%PDF-1.7\nthis is not a pdf body\n'), 'application/pdf'),
    'invalid_asset_content',
  );
  await refused(norm(Buffer.from('no header here'), 'application/pdf'), 'invalid_asset_content', /%PDF-/);
});

test('DXF: a PNG preview of the plan and a text summary', async () => {
  const plan = dxf([
    ...dxfLwPolyline(
      [
        [0, 0],
        [400, 0],
        [400, 300],
        [0, 300],
      ],
      true,
    ),
    ...dxfLine(200, 0, 200, 300),
    ...dxfCircle(100, 100, 40),
    ...dxfArc(300, 150, 50, 0, 90),
    ...dxfText('Kitchen'),
  ]);
  const out = await norm(plan, 'application/dxf', 'flat.dxf');
  assert.equal(out.preview?.media_type, 'image/png');
  const bytes = Buffer.from(out.preview!.bytes);
  assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const meta = await sharp(bytes).metadata();
  assert.equal(meta.format, 'png');
  assert.equal(meta.width, 1024);
  assert.ok(meta.height! > 700 && meta.height! < 800, `height ${meta.height}`);
  // Something was drawn: the preview is not a blank white page.
  const stats = await sharp(bytes).stats();
  assert.ok(stats.channels[0]!.min < 128, 'dark strokes are present');
  assert.match(out.text!, /LWPOLYLINE 1/);
  assert.match(out.text!, /layers: .*WALLS/);
  assert.match(out.text!, /- Kitchen/);
});

test('DXF: limits and corrupt content', async () => {
  const lines = Array.from({ length: 20_001 }, (_, i) => dxfLine(i, 0, i, 1)).flat();
  await refused(norm(dxf(lines), 'application/dxf'), 'asset_limit_exceeded', /20000/);
  const points = Array.from({ length: 20_001 }, (_, i): [number, number] => [i, i % 2]);
  await refused(norm(dxf(dxfLwPolyline(points, false)), 'application/dxf'), 'asset_limit_exceeded', /20000/);
  await refused(norm(Buffer.from('hello world'), 'application/dxf'), 'invalid_asset_content');
  await refused(
    norm(Buffer.from('0\nSECTION\nnot-a-code\nx\n'), 'application/dxf'),
    'invalid_asset_content',
    /group code/,
  );
  const noEntities = await norm(dxf([]), 'application/dxf');
  assert.equal(noEntities.preview, undefined);
  assert.match(noEntities.text!, /entities: 0/);
});

test('cancellation: an aborted signal stops the work with its reason', async () => {
  const ac = new AbortController();
  ac.abort(new Error('client went away'));
  await assert.rejects(normalizeMedia({ file_name: 'a.pdf', bytes: pdf(1) }, ac.signal), /client went away/);
});

test('cancellation: aborting during PDF text extraction ends the worker at once', async () => {
  const ac = new AbortController();
  const started = normalizeMedia({ file_name: 'big.pdf', bytes: pdf(128) }, ac.signal);
  setTimeout(() => ac.abort(new Error('upload cancelled')), 30);
  await assert.rejects(started, /upload cancelled/);
});
