// Derivations on two PostgreSQL replicas (api-core §8.5): single flight is per process, so two
// replicas receiving the same request at once may both compute; the cache key (the primary key
// of derivation_cache) decides, and the replica that loses answers with the winner's record.
// Always on PostgreSQL (its own schema), whatever KHEISH_TEST_STORE says.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import {
  startTranscriptionServer,
  type TranscriptionServer,
} from '../fixtures/providers/openai-transcription-server.ts';
import { http, startDaemon, startReplica, type TestDaemon } from '../helpers/daemon.ts';
import { derive, STT_KEY, STT_KEY_ENV, sttRoutes, uploadAsset, wav } from '../helpers/derivations.ts';
import { freshSchema } from '../helpers/pg-schema.ts';

let server: TranscriptionServer | undefined;
const daemons: TestDaemon[] = [];
let dropSchema: (() => Promise<void>) | undefined;
after(async () => {
  for (const d of daemons) {
    await d.kill();
    await d.cleanup();
  }
  await dropSchema?.();
  await server?.close();
});

test('replicas: the same derivation requested on both replicas at once yields one record, answered by both', async () => {
  server = await startTranscriptionServer();
  const schema = await freshSchema();
  dropSchema = () => schema.drop();
  const opts = { routesToml: sttRoutes(server.origin), env: { [STT_KEY_ENV]: STT_KEY } };
  const a = await startDaemon({ ...opts, databaseUrl: schema.url });
  daemons.push(a);
  const b = await startReplica(a, opts);
  daemons.push(b);

  // Text assets: both replicas race on the cache key without a provider in between.
  for (let i = 0; i < 5; i++) {
    const asset = await uploadAsset(a.url, `race-${i}.txt`, 'text/plain', `race ${i}\n`);
    const body = { profile: 'canonical_text', subject: { type: 'asset', asset_id: asset.asset_id } };
    const [ra, rb] = await Promise.all([derive(a.url, body), derive(b.url, body)]);
    assert.equal(ra.status, 200, ra.text);
    assert.equal(rb.status, 200, rb.text);
    assert.equal(ra.body.derivation_id, rb.body.derivation_id, `race ${i}: one record`);
    assert.deepEqual([ra.body.cache_status, rb.body.cache_status].sort(), ['hit', 'miss']);
  }

  // A slow transcription: both replicas call the provider, one record wins.
  const clip = await uploadAsset(a.url, 'both.wav', 'audio/wav', wav(200, 16_000, 777));
  server.fallback = { kind: 'text', text: 'said once', delayMs: 800 };
  const body = { profile: 'canonical_text', subject: { type: 'asset', asset_id: clip.asset_id } };
  const [ra, rb] = await Promise.all([derive(a.url, body), derive(b.url, body)]);
  assert.equal(ra.status, 200, ra.text);
  assert.equal(rb.status, 200, rb.text);
  assert.equal(ra.body.derivation_id, rb.body.derivation_id, 'the loser answers with the winner');
  assert.deepEqual([ra.body.cache_status, rb.body.cache_status].sort(), ['hit', 'miss']);
  const calls = server.requests.filter((r) => r.file?.sha256 === clip.sha256).length;
  assert.equal(calls, 2, 'each replica computed once (single flight is per process)');
  const listed = (await http(b.url, 'GET', `/v1/derivations?query=${clip.asset_id}`)).body;
  assert.equal(listed.length, 1, 'one durable record');
});
