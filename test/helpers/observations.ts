// Observation test helpers: valid PNG bytes that differ per index (a tEXt chunk with a real CRC),
// source bodies and upload bodies.
import { crc32 } from 'node:zlib';
import { type HttpResult, http } from './daemon.ts';

const ONE_PIXEL = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([len, body, crc]);
}

/** A valid 1×1 PNG whose bytes (and digest) are unique to `n`. */
export function png(n = 0): Buffer {
  const iend = ONE_PIXEL.length - 12;
  return Buffer.concat([
    ONE_PIXEL.subarray(0, iend),
    chunk('tEXt', Buffer.from(`Comment\0frame-${n}`, 'latin1')),
    ONE_PIXEL.subarray(iend),
  ]);
}

export const pngBase64 = (n = 0): string => png(n).toString('base64');

export function sourceBody(id: string, token: string, extra: Record<string, unknown> = {}) {
  return {
    source_id: id,
    display_name: `Source ${id}`,
    kind: 'screen_snapshot',
    upload_token: token,
    ...extra,
  };
}

export function uploadBody(key: string, n = 0, extra: Record<string, unknown> = {}) {
  return {
    upload: { file_name: `frame-${n}.png`, media_type: 'image/png', content_base64: pngBase64(n) },
    idempotency_key: key,
    captured_at_ms: 1_760_000_000_000 + n,
    ...extra,
  };
}

export function upload(
  base: string,
  sourceId: string,
  token: string | null,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  return http(base, 'POST', `/v1/observation-sources/${sourceId}/observations`, body, {
    ...(token === null ? {} : { authorization: `Bearer ${token}` }),
    ...headers,
  });
}

/** A valid mono 16-bit PCM WAV of `samples` silent samples at 8 kHz. */
export function wav(samples = 800): Buffer {
  const data = samples * 2;
  const b = Buffer.alloc(44 + data);
  b.write('RIFF', 0, 'latin1');
  b.writeUInt32LE(36 + data, 4);
  b.write('WAVEfmt ', 8, 'latin1');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(8000, 24);
  b.writeUInt32LE(16000, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36, 'latin1');
  b.writeUInt32LE(data, 40);
  return b;
}
