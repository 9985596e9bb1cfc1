// Shared pieces of the derivation tests: a small valid WAV file, a routes file whose `stt` route
// (OpenAI driver) points at the transcription fixture server, and asset uploads.
import assert from 'node:assert/strict';
import { http } from './daemon.ts';

export const STT_KEY_ENV = 'TEST_STT_KEY';
export const STT_KEY = 'sk-test-stt-0123456789';

/** A mono 16-bit PCM WAV of `ms` milliseconds at `rate` Hz (a soft sine, so it is not all zeros). */
export function wav(ms = 200, rate = 16_000, tone = 440): Buffer {
  const samples = Math.round((rate * ms) / 1000);
  const data = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++)
    data.writeInt16LE(Math.round(3000 * Math.sin((2 * Math.PI * tone * i) / rate)), i * 2);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

/**
 * Routes: `local` (scripted echo, the default) and `stt`, an OpenAI route on the fixture server;
 * `transcription = false` on `stt` leaves the daemon without a transcription backend.
 */
export function sttRoutes(
  origin: string | null,
  opts: { transcription?: boolean; timeoutMs?: number } = {},
): string {
  const lines = [
    'version = 1',
    'default_route = "local"',
    '',
    '[routes.local]',
    'driver = "scripted"',
    'default_model = "scripted"',
  ];
  if (origin !== null)
    lines.push(
      '',
      '[routes.stt]',
      'driver = "openai"',
      'default_model = "gpt-5.4"',
      `api_key_env = "${STT_KEY_ENV}"`,
      `base_url = "${origin}"`,
      ...(opts.transcription === false ? ['transcription = false'] : []),
      ...(opts.timeoutMs ? [`timeout_ms = ${opts.timeoutMs}`] : []),
    );
  return `${lines.join('\n')}\n`;
}

export async function uploadAsset(
  base: string,
  file_name: string,
  media_type: string,
  bytes: Buffer | string,
): Promise<any> {
  const res = await http(base, 'POST', '/v1/assets', {
    file_name,
    media_type,
    content_base64: Buffer.from(bytes).toString('base64'),
  });
  assert.ok(res.status === 200 || res.status === 201, `upload ${file_name}: ${res.status} ${res.text}`);
  return res.body;
}

export const derive = (base: string, body: unknown, query = '') =>
  http(base, 'POST', `/v1/derivations${query}`, body);
