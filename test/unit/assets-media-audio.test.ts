// Audio validation of the media normalizer (api-core §7.2, assets-api "Supported media types"):
// each container's structure, the 8–192 kHz / 1–8 channel / 30 minute limits where the container
// declares them, and raw PCM alignment. Files are built byte by byte (./assets-media-fixtures.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DaemonError } from '../../src/errors/daemon-error.ts';
import { normalizeMedia } from '../../src/features/assets/media/index.ts';
import { adts, flac, mp3, mp4, oggOpus, wav, webm } from './assets-media-fixtures.ts';

const norm = (bytes: Uint8Array, media_type: string) => normalizeMedia({ file_name: 'a', media_type, bytes });

async function refused(p: Promise<unknown>, code: string, detail?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof DaemonError, `expected a DaemonError, got ${err}`);
    assert.deepEqual([err.status, err.domain, err.code], [400, 'assets', code], err.detail);
    if (detail) assert.match(err.detail, detail);
    return true;
  });
}

test('WAV: metadata reported; fmt/data coherence checked', async () => {
  const out = await norm(wav({ rate: 16_000, channels: 1, frames: 16_000 }), 'audio/wav');
  assert.deepEqual(out.audio, { sample_rate_hz: 16_000, channels: 1, duration_ms: 1000 });
  const bad = wav();
  bad.writeUInt16LE(3, 32); // block align 3 for mono 16-bit
  await refused(norm(bad, 'audio/wav'), 'invalid_asset_content', /block align/);
  const odd = wav({ frames: 10 });
  await refused(
    norm(Buffer.concat([odd, Buffer.from([1])]), 'audio/wav'),
    'invalid_asset_content',
    /RIFF length/,
  );
  await refused(norm(wav({ frames: 0 }), 'audio/wav'), 'invalid_asset_content', /empty/);
  const short = wav({ frames: 100, dataSize: 400 });
  await refused(norm(short, 'audio/wav'), 'invalid_asset_content', /RIFF length|declares 400/);
  const float = wav({ bits: 32 });
  float.writeUInt16LE(3, 20);
  assert.equal((await norm(float, 'audio/wav')).media_type, 'audio/wav');
  const alaw = wav({ bits: 8 });
  alaw.writeUInt16LE(6, 20);
  await refused(norm(alaw, 'audio/wav'), 'invalid_asset_content', /not PCM or IEEE float/);
});

test('WAV: provider-style streaming length sentinels run the data to the end of the file', async () => {
  for (const sentinel of [0xffffffff, 0]) {
    const out = await norm(
      wav({ frames: 800, rate: 8_000, dataSize: sentinel, riffSize: sentinel }),
      'audio/wav',
    );
    assert.equal(out.audio?.duration_ms, 100, `sentinel ${sentinel}`);
  }
  await refused(
    norm(
      Buffer.concat([wav({ frames: 800, dataSize: 0xffffffff, riffSize: 0xffffffff }), Buffer.from([1])]),
      'audio/wav',
    ),
    'invalid_asset_content',
    /whole number/,
  );
});

test('WAV over 30 minutes (declared in its header) is refused with asset_limit_exceeded', async () => {
  // 8 kHz mono 8-bit is 8,000 bytes a second: a data chunk declaring 1 hour is 28.8 MB.
  const hour = wav({ rate: 8_000, bits: 8, frames: 8_000, dataSize: 8_000 * 3_600 });
  await refused(norm(hour, 'audio/wav'), 'asset_limit_exceeded', /3600 s; audio is limited to 1800 s/);
});

test('WAV: sample rate and channel limits', async () => {
  await refused(
    norm(wav({ rate: 4_000, frames: 400 }), 'audio/wav'),
    'asset_limit_exceeded',
    /4000 Hz; the limit is 8000–192000/,
  );
  await refused(norm(wav({ rate: 384_000, frames: 400 }), 'audio/wav'), 'asset_limit_exceeded', /384000 Hz/);
  await refused(
    norm(wav({ channels: 9, frames: 10 }), 'audio/wav'),
    'asset_limit_exceeded',
    /9 channels; the limit is 1–8/,
  );
  assert.equal((await norm(wav({ channels: 8, frames: 10 }), 'audio/wav')).audio?.channels, 8);
});

test('MP3: a complete frame, directly or after an ID3 tag; duration from the bitrate', async () => {
  const out = await norm(mp3(3), 'audio/mpeg');
  assert.deepEqual([out.audio?.sample_rate_hz, out.audio?.channels], [44_100, 2]);
  assert.equal((await norm(mp3(2, true), 'audio/mp3')).media_type, 'audio/mpeg');
  await refused(norm(mp3(1).subarray(0, 200), 'audio/mpeg'), 'invalid_asset_content', /417 bytes/);
  await refused(norm(Buffer.from('ID3 but nothing else'), 'audio/mpeg'), 'invalid_asset_content');
  const free = mp3(1);
  free[2] = 0x00; // free bitrate
  await refused(norm(free, 'audio/mpga'), 'invalid_asset_content', /bitrate/);
  // An 8 kbps MPEG-2.5 stream of 2 MB would last 2000 s: over 30 minutes.
  const slow = Buffer.alloc(2_000_000);
  slow.set([0xff, 0xe3, 0x18, 0xc0]); // MPEG 2.5 layer III, 8 kbps, 8 kHz (frame 72 bytes), mono
  await refused(norm(slow, 'audio/mpeg'), 'asset_limit_exceeded', /limited to 1800 s/);
});

test('Opus: an Ogg page with OpusHead; channels and duration checked', async () => {
  const out = await norm(oggOpus({ channels: 2, seconds: 5 }), 'audio/opus');
  assert.deepEqual(out.audio, { sample_rate_hz: 48_000, channels: 2, duration_ms: 5000 });
  await refused(norm(oggOpus({ channels: 0 }), 'audio/opus'), 'invalid_asset_content', /zero channels/);
  await refused(norm(oggOpus({ channels: 3 }), 'audio/opus'), 'invalid_asset_content', /family 0/);
  await refused(norm(oggOpus({ seconds: 3_600 }), 'audio/opus'), 'asset_limit_exceeded', /1800 s/);
  const vorbis = oggOpus();
  vorbis.write('OpusHeaX', 28, 'latin1');
  await refused(norm(vorbis, 'audio/ogg'), 'invalid_asset_content', /OpusHead/);
  await refused(norm(oggOpus().subarray(0, 35), 'audio/opus'), 'invalid_asset_content', /truncated/);
});

test('AAC: ADTS frames with valid rate/channel metadata; ADIF accepted', async () => {
  const out = await norm(adts(43), 'audio/aac');
  assert.deepEqual([out.audio?.sample_rate_hz, out.audio?.channels], [44_100, 2]);
  assert.equal(out.audio?.duration_ms, Math.round((43 * 1024 * 1000) / 44_100));
  await refused(norm(adts(1, 13), 'audio/aac'), 'invalid_asset_content', /sampling frequency index 13/);
  await refused(norm(adts(1, 12), 'audio/aac'), 'asset_limit_exceeded', /7350 Hz/);
  await refused(norm(adts(1, 4, 0), 'audio/aac'), 'invalid_asset_content', /channel configuration 0/);
  await refused(norm(adts(1).subarray(0, 20), 'audio/aac'), 'invalid_asset_content', /first frame/);
  const adif = Buffer.concat([Buffer.from('ADIF'), Buffer.alloc(60, 0x11)]);
  assert.equal((await norm(adif, 'audio/aac')).media_type, 'audio/aac');
});

test('FLAC: STREAMINFO first with valid metadata; declared duration limited', async () => {
  const out = await norm(flac({ rate: 48_000, channels: 2, totalSamples: 96_000 }), 'audio/flac');
  assert.deepEqual(out.audio, { sample_rate_hz: 48_000, channels: 2, duration_ms: 2000 });
  await refused(norm(flac({ rate: 0 }), 'audio/flac'), 'invalid_asset_content', /sample rate/);
  await refused(norm(flac({ rate: 4_000 }), 'audio/flac'), 'asset_limit_exceeded', /4000 Hz/);
  await refused(norm(flac({ totalSamples: 44_100 * 1_801 }), 'audio/flac'), 'asset_limit_exceeded', /1801 s/);
  const noInfo = flac();
  noInfo[4] = 0x84; // first block is a VORBIS_COMMENT
  await refused(norm(noInfo, 'audio/flac'), 'invalid_asset_content', /STREAMINFO/);
  await refused(norm(flac().subarray(0, 42), 'audio/flac'), 'invalid_asset_content', /truncated/);
});

test('MP4/M4A: ftyp, non-empty mdat and a soun handler; channels, rate and duration checked', async () => {
  const out = await norm(mp4({ channels: 1, rate: 24_000, seconds: 7 }), 'audio/m4a');
  assert.deepEqual(out.audio, { sample_rate_hz: 24_000, channels: 1, duration_ms: 7000 });
  await refused(norm(mp4({ handler: 'vide' }), 'audio/mp4'), 'invalid_asset_content', /no audio track/);
  await refused(norm(mp4({ channels: 12 }), 'audio/mp4'), 'asset_limit_exceeded', /12 channels/);
  await refused(norm(mp4({ seconds: 2_000 }), 'audio/mp4'), 'asset_limit_exceeded', /2000 s/);
  const cut = mp4();
  await refused(norm(cut.subarray(0, cut.length - 10), 'audio/mp4'), 'invalid_asset_content', /runs past/);
});

test('WebM: webm DocType, Segment, an Opus/Vorbis audio track and a non-empty block', async () => {
  const out = await norm(webm({ channels: 1, seconds: 3 }), 'audio/webm');
  assert.deepEqual(out.audio, { sample_rate_hz: 48_000, channels: 1, duration_ms: 3000 });
  assert.equal((await norm(webm({ codec: 'A_VORBIS' }), 'audio/webm')).media_type, 'audio/webm');
  await refused(norm(webm({ docType: 'matroska' }), 'audio/webm'), 'invalid_asset_content', /DocType/);
  await refused(norm(webm({ codec: 'V_VP9' }), 'audio/webm'), 'invalid_asset_content', /audio track/);
  await refused(norm(webm({ channels: 9 }), 'audio/webm'), 'asset_limit_exceeded', /9 channels/);
  await refused(norm(webm({ seconds: 7_200 }), 'audio/webm'), 'asset_limit_exceeded', /7200 s/);
  const noBlock = webm();
  await refused(
    norm(noBlock.subarray(0, noBlock.length - 16), 'audio/webm'),
    'invalid_asset_content',
    /media data/,
  );
});

test('raw PCM: non-empty and sample-aligned (16-bit pcm/l16, 24-bit l24)', async () => {
  assert.deepEqual((await norm(Buffer.alloc(4), 'audio/pcm')).audio, {});
  await refused(norm(Buffer.alloc(3, 1), 'audio/pcm'), 'invalid_asset_content', /2-byte samples/);
  await refused(norm(Buffer.alloc(5, 1), 'audio/l16'), 'invalid_asset_content', /2-byte samples/);
  await refused(norm(Buffer.alloc(4, 1), 'audio/l24'), 'invalid_asset_content', /3-byte samples/);
  assert.equal((await norm(Buffer.alloc(6, 1), 'audio/l24')).media_type, 'audio/l24');
});
