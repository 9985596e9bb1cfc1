// Property: whatever bytes arrive under whatever declared type, the media normalizer either
// accepts them or refuses with a `400 assets/…` DaemonError — never another exception (a parser's
// RangeError, a library crash). Inputs are random bytes, random bytes behind each format's magic
// number, and real files (./assets-media-fixtures.ts) with random bytes overwritten or cut off.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { DaemonError } from '../../src/errors/daemon-error.ts';
import {
  MEDIA_TYPE_ALIASES,
  normalizeMedia,
  SUPPORTED_MEDIA_TYPES,
} from '../../src/features/assets/media/index.ts';
import {
  adts,
  dxf,
  dxfCircle,
  dxfLine,
  flac,
  mp3,
  mp4,
  oggOpus,
  pdf,
  wav,
  webm,
  zeroPng,
} from './assets-media-fixtures.ts';

const MAGICS: Uint8Array[] = [
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]),
  Buffer.from([0xff, 0xd8, 0xff]),
  Buffer.from('%PDF-1.7\n'),
  Buffer.from('RIFF\x24\x00\x00\x00WAVEfmt '),
  Buffer.from('OggS\0'),
  Buffer.from('fLaC\0\0\0\x22'),
  Buffer.from('\0\0\0\x18ftypM4A '),
  Buffer.from([0x1a, 0x45, 0xdf, 0xa3]),
  Buffer.from('ID3\x04\0\0\0\0\0\x0a'),
  Buffer.from([0xff, 0xfb, 0x90, 0x00]),
  Buffer.from([0xff, 0xf1, 0x50, 0x80]),
  Buffer.from('0\nSECTION\n2\nENTITIES\n0\nLINE\n'),
  Buffer.from('ADIF'),
  Buffer.from('MZ'),
];

const FIXTURES: Uint8Array[] = [
  wav(),
  mp3(2, true),
  flac(),
  oggOpus(),
  adts(3),
  mp4(),
  webm(),
  pdf(2),
  dxf([...dxfLine(0, 0, 5, 5), ...dxfCircle(2, 2, 1)]),
  zeroPng(64, 64),
  Buffer.from('{"a":[1,2,3]}'),
];

const declared = fc.option(
  fc.constantFrom(
    ...SUPPORTED_MEDIA_TYPES,
    ...Object.keys(MEDIA_TYPE_ALIASES),
    'application/octet-stream',
    'video/mp4',
  ),
  { nil: undefined },
);

const randomBytes = fc.uint8Array({ maxLength: 4096 });
const behindMagic = fc
  .tuple(fc.constantFrom(...MAGICS), fc.uint8Array({ maxLength: 2048 }))
  .map(([m, rest]) => Buffer.concat([m, rest]));
const mutated = fc
  .tuple(
    fc.constantFrom(...FIXTURES),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
    fc.option(fc.nat(), { nil: undefined }),
  )
  .map(([f, edits, cut]) => {
    const b = Buffer.from(f);
    for (const [at, v] of edits) b[at % b.length] = v;
    return cut === undefined ? b : b.subarray(0, cut % (b.length + 1));
  });

test('random, magic-prefixed and mutated uploads resolve or fail with a 400 assets DaemonError only', async () => {
  await fc.assert(
    fc.asyncProperty(fc.oneof(randomBytes, behindMagic, mutated), declared, async (bytes, media_type) => {
      try {
        const out = await normalizeMedia({
          file_name: 'fuzz.bin',
          bytes,
          ...(media_type ? { media_type } : {}),
        });
        assert.ok(SUPPORTED_MEDIA_TYPES.includes(out.media_type as never), out.media_type);
      } catch (err) {
        if (!(err instanceof DaemonError)) throw err;
        assert.equal(err.status, 400);
        assert.equal(err.domain, 'assets');
        assert.ok(
          [
            'unsupported_media_type',
            'asset_too_large',
            'asset_limit_exceeded',
            'invalid_asset_content',
          ].includes(err.code),
          err.code,
        );
        assert.ok(err.detail.length > 0);
      }
    }),
    { numRuns: 600 },
  );
});
