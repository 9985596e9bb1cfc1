// Observation subjects (api-core §8.5, concepts §4.14): a microphone observation transcribed
// through the transcription fixture becomes the observation's canonical text (written back; the
// next request is still a hit); an image observation's uploaded canonical text is reused as is;
// purged observations and blocked sources are refused without a record.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertProblem } from '../conformance/support.ts';
import {
  startTranscriptionServer,
  type TranscriptionServer,
} from '../fixtures/providers/openai-transcription-server.ts';
import { http, startDaemon, type TestDaemon, waitForRun } from '../helpers/daemon.ts';
import { derive, STT_KEY, STT_KEY_ENV, sttRoutes, wav } from '../helpers/derivations.ts';
import { png } from '../helpers/media-samples.ts';
import { journalPayloads } from '../helpers/state-query.ts';
import { execState } from '../helpers/state-write.ts';

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

const subject = (observation_id: string, extra: Record<string, unknown> = {}) => ({
  profile: 'canonical_text',
  subject: { type: 'observation', observation_id },
  ...extra,
});

async function source(source_id: string, kind: string, extra: Record<string, unknown> = {}) {
  const res = await http(base(), 'POST', '/v1/observation-sources', {
    source_id,
    display_name: source_id,
    kind,
    upload_token: `${source_id}-upload-token-0123`,
    ...extra,
  });
  assert.ok(res.status < 300, res.text);
}

let seq = 0;
async function observe(
  source_id: string,
  file_name: string,
  media_type: string,
  bytes: Buffer,
  canonical_text?: string,
) {
  seq += 1;
  const res = await http(
    base(),
    'POST',
    `/v1/observation-sources/${source_id}/observations`,
    {
      upload: { file_name, media_type, content_base64: bytes.toString('base64') },
      idempotency_key: `${source_id}:${seq}`,
      captured_at_ms: Date.now(),
      ...(canonical_text ? { canonical_text } : {}),
    },
    { authorization: `Bearer ${source_id}-upload-token-0123` },
  );
  assert.ok(res.status < 300, res.text);
  return res.body;
}

test('derivations: a microphone observation is transcribed and the transcript becomes its canonical text', async () => {
  await source('mic', 'microphone_segment');
  const o = await observe('mic', 'seg.wav', 'audio/wav', wav(200, 16_000, 350));
  assert.equal(o.canonical_text_asset_id, null);
  server.enqueue({ kind: 'text', text: 'the segment said this' });
  const first = await derive(base(), subject(o.observation_id));
  assert.equal(first.status, 200, first.text);
  assert.deepEqual(
    [first.body.status, first.body.cache_status, first.body.reused_subject_asset],
    ['completed', 'miss', false],
  );
  assert.equal(first.body.backend.kind, 'transcription');
  const after1 = (await http(base(), 'GET', `/v1/observations/${o.observation_id}`)).body;
  assert.equal(after1.canonical_text_asset_id, first.body.result_asset_id, 'written back');
  const again = await derive(base(), subject(o.observation_id));
  assert.deepEqual([again.body.derivation_id, again.body.cache_status], [first.body.derivation_id, 'hit']);
  const calls = server.requests.filter((r) => r.file?.sha256 === o.sha256).length;
  assert.equal(calls, 1);

  // As if the daemon died between the record's commit and the write-back: a hit repairs it.
  await execState(d, 'update observations set canonical_text_asset_id = null where observation_id = ?', [
    o.observation_id,
  ]);
  const repaired = await derive(base(), subject(o.observation_id));
  assert.equal(repaired.body.cache_status, 'hit');
  const after3 = (await http(base(), 'GET', `/v1/observations/${o.observation_id}`)).body;
  assert.equal(after3.canonical_text_asset_id, first.body.result_asset_id, 'written back again');

  // Option-specific transcripts never replace the observation's default canonical text.
  server.enqueue({ kind: 'text', text: 'with a hint' });
  const hinted = await derive(base(), subject(o.observation_id, { transcription: { prompt: 'a hint' } }));
  assert.equal(hinted.body.cache_status, 'miss');
  const after2 = (await http(base(), 'GET', `/v1/observations/${o.observation_id}`)).body;
  assert.equal(after2.canonical_text_asset_id, first.body.result_asset_id);
});

test('derivations: materializing a transcript-less microphone observation transcribes it first, and the run sees the transcript', async () => {
  await source('mic-mat', 'microphone_segment');
  const o = await observe('mic-mat', 'standup.wav', 'audio/wav', wav(240, 16_000, 351));
  assert.equal(o.canonical_text_asset_id, null);
  server.enqueue({ kind: 'text', text: 'deploy is blocked on the migration review' });
  await http(base(), 'POST', '/v1/sessions', { session_id: 'mic-review' });
  const res = await http(base(), 'POST', '/v1/observation-materializations', {
    target_session_id: 'mic-review',
    selection: { type: 'observation_ids', observation_ids: [o.observation_id] },
    request: { content: 'What did the segment say?' },
  });
  assert.equal(res.status, 202, res.text);
  const written = (await http(base(), 'GET', `/v1/observations/${o.observation_id}`)).body;
  assert.ok(written.canonical_text_asset_id, 'the transcript was written back before the run');
  // The input as journaled (the evidence block the model is sent).
  await waitForRun(base(), res.body.run_id);
  const input = JSON.stringify(await journalPayloads(d, res.body.run_id, 'input_received'));
  assert.match(input, /deploy is blocked on the migration review/);
  assert.doesNotMatch(input, /no transcript is available/);
  assert.equal(server.requests.filter((r) => r.file?.sha256 === o.sha256).length, 1);
});

test('derivations: an image observation reuses its uploaded canonical text; purged and blocked are refused', async () => {
  await source('screen', 'screen_snapshot', { max_active_observations: 1 });
  const shot = await observe('screen', 'frame.png', 'image/png', png(16, 12, 9), 'OCR: build passed');
  const text = await derive(base(), subject(shot.observation_id));
  assert.equal(text.status, 200, text.text);
  assert.equal(text.body.result_asset_id, shot.canonical_text_asset_id);
  assert.equal(text.body.reused_subject_asset, true);
  const preview = await derive(base(), {
    profile: 'visual_preview',
    subject: { type: 'observation', observation_id: shot.observation_id },
  });
  assert.equal(preview.status, 200, preview.text);
  assert.equal(preview.body.status, 'completed');

  const before = (await http(base(), 'GET', '/v1/derivations')).body.length;
  // A second frame takes the source over its budget of one: the first is purged.
  await observe('screen', 'frame2.png', 'image/png', png(16, 12, 10));
  assertProblem(
    await derive(base(), subject(shot.observation_id)),
    409,
    'derivations',
    'derivation_subject_inactive',
  );
  assertProblem(
    await derive(base(), subject('observation-nope')),
    404,
    'derivations',
    'derivation_subject_not_found',
  );
  await source('closed', 'screen_snapshot', { allow_materialization: false });
  const closed = await observe('closed', 'c.png', 'image/png', png(8, 8, 11));
  assertProblem(
    await derive(base(), subject(closed.observation_id)),
    409,
    'derivations',
    'derivation_subject_inactive',
  );
  assert.equal((await http(base(), 'GET', '/v1/derivations')).body.length, before, 'nothing persisted');
});
