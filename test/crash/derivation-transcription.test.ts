// Crash during a transcription (api-core §8.5): the daemon is SIGKILLed while the provider is
// still answering a canonical_text derivation. After the restart no derivation record, cache
// entry or reference is visible for it, and the same request then completes (a miss).
// SQLite by default; PostgreSQL with KHEISH_TEST_STORE=postgres.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import {
  startTranscriptionServer,
  type TranscriptionServer,
} from '../fixtures/providers/openai-transcription-server.ts';
import { http, startDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { derive, STT_KEY, STT_KEY_ENV, sttRoutes, uploadAsset, wav } from '../helpers/derivations.ts';
import { sleep } from './crash-kit.ts';

let server: TranscriptionServer | undefined;
let d: TestDaemon | undefined;
after(async () => {
  await d?.kill();
  await d?.cleanup();
  await server?.close();
});

test('crash: SIGKILL during a slow transcription leaves no half derivation; a retry after restart completes', async () => {
  server = await startTranscriptionServer();
  d = await startDaemon({ routesToml: sttRoutes(server.origin), env: { [STT_KEY_ENV]: STT_KEY } });
  const clip = await uploadAsset(d.url, 'crash.wav', 'audio/wav', wav(300, 16_000, 523));
  const body = { profile: 'canonical_text', subject: { type: 'asset', asset_id: clip.asset_id } };
  server.fallback = { kind: 'text', text: 'never delivered', delayMs: 30_000 };
  const pending = derive(d.url, body).catch((err: Error) => err);
  const deadline = Date.now() + 10_000;
  while (!server.requests.some((r) => r.file?.sha256 === clip.sha256)) {
    assert.ok(Date.now() < deadline, 'the transcription request reached the provider');
    await sleep(20);
  }
  await d.kill();
  assert.ok((await pending) instanceof Error, 'the caller saw the connection die, not an answer');

  server.fallback = { kind: 'text', text: 'after the crash' };
  d = await d.restart();
  assert.deepEqual((await http(d.url, 'GET', '/v1/derivations')).body, [], 'no derivation record');
  const refs = (await http(d.url, 'GET', `/v1/assets/${clip.asset_id}/references`)).body;
  assert.deepEqual(
    refs.references.filter((r: any) => r.domain === 'derivations'),
    [],
    'no derivation reference',
  );
  const done = await derive(d.url, body);
  assert.equal(done.status, 200, done.text);
  assert.deepEqual([done.body.status, done.body.cache_status], ['completed', 'miss']);
  const text = await (await fetch(`${d.url}/v1/assets/${done.body.result_asset_id}/raw`)).text();
  assert.equal(text, 'after the crash');
  assert.equal((await derive(d.url, body)).body.derivation_id, done.body.derivation_id);
});
