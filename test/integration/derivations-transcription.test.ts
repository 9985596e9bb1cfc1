// Audio canonical_text derivations through a real transcription backend: an OpenAI route whose
// base_url is a local server speaking OpenAI's multipart `/v1/audio/transcriptions`, called by the
// real AI SDK. Covers the backend provenance, options (prompt, language, timestamps on whisper-1),
// single flight (N identical concurrent requests → one provider call), retryable failures left
// unpersisted, non-retryable ones recorded as `failed` and recomputed with retry_failed,
// force_refresh, and the placeholder a daemon without a backend derives.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertProblem } from '../conformance/support.ts';
import {
  startTranscriptionServer,
  type TranscriptionServer,
} from '../fixtures/providers/openai-transcription-server.ts';
import { http, startDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { derive, STT_KEY, STT_KEY_ENV, sttRoutes, uploadAsset, wav } from '../helpers/derivations.ts';

let server: TranscriptionServer;
let d: TestDaemon;
const base = () => d.url;

before(async () => {
  server = await startTranscriptionServer();
  d = await startDaemon({ routesToml: sttRoutes(server.origin), env: { [STT_KEY_ENV]: STT_KEY } });
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
  await server?.close();
});

let tone = 300;
/** A fresh audio asset (a new tone each time, so a new digest and a new cache key). */
const audioAsset = async (name = 'clip.wav') =>
  uploadAsset(base(), name, 'audio/wav', wav(200, 16_000, tone++));
const canonical = (asset_id: string, extra: Record<string, unknown> = {}) => ({
  profile: 'canonical_text',
  subject: { type: 'asset', asset_id },
  ...extra,
});
const callsFor = (sha256: string) => server.requests.filter((r) => r.file?.sha256 === sha256).length;
const raw = async (assetId: string) => {
  const res = await fetch(`${base()}/v1/assets/${assetId}/raw`);
  assert.equal(res.status, 200);
  return res.text();
};

test('transcription: an audio asset becomes a text/plain transcript with backend provenance; the same request again is a hit', async () => {
  const clip = await audioAsset();
  server.enqueue({ kind: 'text', text: 'hello from the fixture' });
  const first = await derive(base(), canonical(clip.asset_id));
  assert.equal(first.status, 200, first.text);
  const v = first.body;
  assert.equal(v.cache_status, 'miss');
  assert.equal(v.status, 'completed');
  assert.equal(v.reused_subject_asset, false);
  assert.notEqual(v.result_asset_id, clip.asset_id);
  assert.deepEqual(v.backend, {
    kind: 'transcription',
    route_id: 'stt',
    provider: 'openai',
    model: 'gpt-4o-transcribe',
    pipeline_version: 1,
    stitching_strategy: 'single_part',
    part_count: 1,
  });
  assert.equal(await raw(v.result_asset_id), 'hello from the fixture');
  const result = (await http(base(), 'GET', `/v1/assets/${v.result_asset_id}`)).body;
  assert.equal(result.media_type, 'text/plain');
  assert.deepEqual(result.derivation_ids, [v.derivation_id]);

  const req = server.requests.at(-1)!;
  assert.equal(req.path, '/v1/audio/transcriptions');
  assert.equal(req.authorization, `Bearer ${STT_KEY}`);
  assert.equal(req.model, 'gpt-4o-transcribe');
  assert.equal(req.file?.sha256, clip.sha256, 'the stored audio bytes were sent');
  assert.equal(req.file?.type, 'audio/wav');
  assert.equal(req.fields.prompt, undefined);

  const again = await derive(base(), canonical(clip.asset_id));
  assert.equal(again.body.cache_status, 'hit');
  assert.equal(again.body.derivation_id, v.derivation_id);
  assert.equal(callsFor(clip.sha256), 1, 'the hit made no provider call');
  assert.ok(
    !JSON.stringify(v).includes(STT_KEY) && !d.logs().includes(STT_KEY),
    'the key is in no view or log',
  );
});

test('transcription: options are forwarded, keyed separately, and timestamps use whisper-1 with a JSON timestamp asset', async () => {
  const clip = await audioAsset();
  const plain = await derive(base(), canonical(clip.asset_id));
  const opts = { transcription: { prompt: '  names: Kheish  ', language: ' fr ' } };
  server.enqueue({ kind: 'text', text: 'bonjour' });
  const withOpts = await derive(base(), canonical(clip.asset_id, opts));
  assert.equal(withOpts.status, 200, withOpts.text);
  assert.equal(withOpts.body.cache_status, 'miss');
  assert.notEqual(withOpts.body.derivation_id, plain.body.derivation_id);
  assert.notEqual(withOpts.body.source_fingerprint, plain.body.source_fingerprint);
  const req = server.requests.at(-1)!;
  assert.deepEqual([req.fields.prompt, req.fields.language], [['names: Kheish'], ['fr']], 'trimmed');
  const same = await derive(
    base(),
    canonical(clip.asset_id, { transcription: { language: 'fr', prompt: 'names: Kheish' } }),
  );
  assert.equal(same.body.cache_status, 'hit', 'the same normalized options hit');

  server.enqueue({ kind: 'text', text: 'one two three' });
  const stamped = await derive(
    base(),
    canonical(clip.asset_id, { transcription: { timestamp_granularities: ['word', 'segment'] } }),
  );
  assert.equal(stamped.status, 200, stamped.text);
  const tsReq = server.requests.at(-1)!;
  assert.equal(tsReq.model, 'whisper-1');
  assert.deepEqual(tsReq.fields.response_format, ['verbose_json']);
  assert.deepEqual([...(tsReq.fields['timestamp_granularities[]'] ?? [])].sort(), ['segment', 'word']);
  assert.equal(stamped.body.backend.model, 'whisper-1');
  const tsId = stamped.body.backend.timestamp_asset_id;
  assert.ok(tsId, 'a timestamp asset');
  const timestamps = JSON.parse(await raw(tsId));
  assert.deepEqual(
    timestamps.words.map((w: any) => w.text),
    ['one', 'two', 'three'],
  );
  assert.equal(timestamps.pipeline_version, 1);
  assert.equal(timestamps.stitching_strategy, 'single_part');

  assertProblem(
    await derive(base(), canonical(clip.asset_id, { transcription: { prompt: 'x'.repeat(2001) } })),
    400,
    'derivations',
    'invalid_derivation_request',
  );
});

test('transcription: concurrent identical requests are single-flighted into one provider call', async () => {
  const clip = await audioAsset();
  server.enqueue({ kind: 'text', text: 'shared once', delayMs: 700 });
  const results = await Promise.all(
    Array.from({ length: 6 }, () => derive(base(), canonical(clip.asset_id))),
  );
  for (const r of results) assert.equal(r.status, 200, r.text);
  assert.equal(new Set(results.map((r) => r.body.derivation_id)).size, 1, 'one record');
  assert.deepEqual(results.map((r) => r.body.cache_status).sort(), [
    'hit',
    'hit',
    'hit',
    'hit',
    'hit',
    'miss',
  ]);
  assert.equal(callsFor(clip.sha256), 1, 'one provider call');
});

test('transcription: retryable provider failures (429, 5xx) persist nothing and a later request succeeds', async () => {
  const clip = await audioAsset();
  const count = async () =>
    (await http(base(), 'GET', `/v1/derivations?query=${clip.asset_id}`)).body.length as number;
  server.enqueue({ kind: 'error', status: 429, message: 'slow down' });
  assertProblem(
    await derive(base(), canonical(clip.asset_id)),
    429,
    'derivations',
    'transcription_rate_limited',
  );
  server.enqueue({ kind: 'error', status: 503, message: 'overloaded' });
  assertProblem(
    await derive(base(), canonical(clip.asset_id)),
    502,
    'derivations',
    'transcription_backend_failed',
  );
  assert.equal(await count(), 0, 'nothing persisted');
  server.enqueue({ kind: 'text', text: 'third time lucky' });
  const ok = await derive(base(), canonical(clip.asset_id));
  assert.equal(ok.body.status, 'completed');
  assert.equal(ok.body.cache_status, 'miss');
  assert.equal(callsFor(clip.sha256), 3);
});

test('transcription: a non-retryable provider failure is a durable failed record; retry_failed recomputes it', async () => {
  const clip = await audioAsset();
  server.enqueue({ kind: 'error', status: 400, message: 'audio file is unreadable' });
  const failed = await derive(base(), canonical(clip.asset_id));
  assert.equal(failed.status, 200, failed.text);
  assert.equal(failed.body.status, 'failed');
  assert.equal(failed.body.result_asset_id, null);
  assert.match(failed.body.error, /400.*audio file is unreadable/);
  const replay = await derive(base(), canonical(clip.asset_id));
  assert.deepEqual([replay.body.cache_status, replay.body.derivation_id], ['hit', failed.body.derivation_id]);
  assert.equal(callsFor(clip.sha256), 1, 'the cached failure is replayed without a call');
  const byStatus = await http(base(), 'GET', '/v1/derivations?query=unreadable');
  assert.ok(
    byStatus.body.some((x: any) => x.derivation_id === failed.body.derivation_id),
    'query matches error text',
  );

  server.enqueue({ kind: 'text', text: 'readable now' });
  const retried = await derive(base(), canonical(clip.asset_id), '?retry_failed=true');
  assert.equal(retried.body.status, 'completed');
  assert.equal(retried.body.cache_status, 'miss');
  assert.notEqual(retried.body.derivation_id, failed.body.derivation_id);
  const later = await derive(base(), canonical(clip.asset_id));
  assert.equal(later.body.derivation_id, retried.body.derivation_id);

  server.enqueue({ kind: 'text', text: 'forced again' });
  const forced = await derive(base(), canonical(clip.asset_id), '?force_refresh=true');
  assert.deepEqual([forced.body.cache_status, forced.body.status], ['miss', 'completed']);
  assert.equal(await raw(forced.body.result_asset_id), 'forced again');
  assert.equal(callsFor(clip.sha256), 3);
});

test('transcription: without a transcription backend an audio asset derives a placeholder; options are refused', async () => {
  const bare = await startDaemon({
    routesToml: sttRoutes(server.origin, { transcription: false }),
    env: { [STT_KEY_ENV]: STT_KEY },
  });
  try {
    const clip = await uploadAsset(bare.url, 'quiet.wav', 'audio/wav', wav(100, 16_000, 999));
    const res = await derive(bare.url, canonical(clip.asset_id));
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.status, 'completed');
    assert.equal(res.body.backend, undefined);
    const text = await (await fetch(`${bare.url}/v1/assets/${res.body.result_asset_id}/raw`)).text();
    assert.match(text, /^\[audio quiet\.wav .*no transcription backend/);
    assertProblem(
      await derive(bare.url, canonical(clip.asset_id, { transcription: { language: 'en' } })),
      400,
      'derivations',
      'transcription_backend_unavailable',
    );
    assert.equal(callsFor(clip.sha256), 0);
  } finally {
    await bare.kill();
    await bare.cleanup();
  }
});

test('transcription: a shutdown cancels an in-flight transcription (503, nothing recorded) without waiting for the provider', async () => {
  const own = await startDaemon({ routesToml: sttRoutes(server.origin), env: { [STT_KEY_ENV]: STT_KEY } });
  try {
    const clip = await uploadAsset(own.url, 'long.wav', 'audio/wav', wav(250, 16_000, 901));
    server.enqueue({ kind: 'text', text: 'too late', delayMs: 60_000 });
    const pending = derive(own.url, canonical(clip.asset_id));
    const deadline = Date.now() + 10_000;
    while (callsFor(clip.sha256) === 0) {
      assert.ok(Date.now() < deadline, 'the request reached the provider');
      await new Promise((r) => setTimeout(r, 20));
    }
    const started = Date.now();
    const code = await own.stop();
    assert.equal(code, 0);
    assert.ok(Date.now() - started < 20_000, 'the daemon did not wait for the provider');
    assertProblem(await pending, 503, 'readiness', 'daemon_draining');
    const again = await own.restart();
    try {
      assert.deepEqual((await http(again.url, 'GET', '/v1/derivations')).body, []);
    } finally {
      await again.kill();
    }
  } finally {
    await own.kill().catch(() => undefined);
    await own.cleanup();
  }
});

test('transcription (decision 254): an OpenAI-compatible route with transcription = true is a backend, with whisper-1 and no key', async () => {
  const toml = `version = 1
default_route = "local"

[routes.local]
driver = "scripted"
default_model = "scripted"

[routes.speech]
driver = "openai_compatible"
default_model = "llama-3"
base_url = "${server.origin}"
transcription = true
`;
  const oc = await startDaemon({ routesToml: toml });
  try {
    const clip = await uploadAsset(oc.url, 'oc.wav', 'audio/wav', wav(120, 16_000, 640));
    server.enqueue({ kind: 'text', text: 'compatible server' });
    const res = await derive(oc.url, canonical(clip.asset_id));
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(
      [res.body.backend.route_id, res.body.backend.provider, res.body.backend.model],
      ['speech', 'openai_compatible', 'whisper-1'],
    );
    const req = server.requests.at(-1)!;
    assert.equal(req.model, 'whisper-1');
    assert.equal(req.file?.sha256, clip.sha256);
  } finally {
    await oc.kill();
    await oc.cleanup();
  }
});
