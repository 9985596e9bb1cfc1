// docs/derivations.md, followed as written: its shell lines run in order against a daemon (with
// ASSET naming an imported text asset, as the page says), the output block after a command holds
// lines it printed, and its JSON requests, posted to the daemon, answer views with exactly the
// fields and fixed values the page shows (the audio one through a transcription fixture server).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, test } from 'node:test';
import {
  startTranscriptionServer,
  type TranscriptionServer,
} from '../fixtures/providers/openai-transcription-server.ts';
import { BIN, http, startDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { STT_KEY, STT_KEY_ENV, sttRoutes, uploadAsset, wav } from '../helpers/derivations.ts';
import { fencedBlocks } from './markdown.ts';

const DOC = resolve(import.meta.dirname, '../../docs/derivations.md');
const blocks = fencedBlocks('docs/derivations.md', readFileSync(DOC, 'utf8'));

let server: TranscriptionServer;
let d: TestDaemon;
before(async () => {
  server = await startTranscriptionServer();
  d = await startDaemon({ routesToml: sttRoutes(server.origin), env: { [STT_KEY_ENV]: STT_KEY } });
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
  await server?.close();
});

const flat = (l: string) => l.replace(/\s+/g, ' ').trim();
/** The keys of a view, nested objects as `key.sub`. */
const shape = (o: Record<string, unknown>, prefix = ''): string[] =>
  Object.entries(o)
    .flatMap(([k, v]) =>
      v && typeof v === 'object' && !Array.isArray(v) && k !== 'subject'
        ? shape(v as Record<string, unknown>, `${prefix}${k}.`)
        : [`${prefix}${k}`],
    )
    .sort();
const withAsset = (body: any, assetId: string) => ({
  ...body,
  subject: { ...body.subject, asset_id: assetId },
});

test('docs/derivations.md: the CLI walkthrough runs as written and prints what the page shows', async () => {
  const asset = await uploadAsset(d.url, 'notes.txt', 'text/plain', 'meeting notes\n');
  let checked = 0;
  blocks.forEach((b, i) => {
    if (b.lang !== 'sh') return;
    let last = '';
    for (const line of b.body.trim().split('\n')) {
      const out = spawnSync('sh', ['-c', line.replace(/^kheish-daemon/, `"${BIN}"`)], {
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, KHEISH_DAEMON_URL: d.url, ASSET: asset.asset_id },
      });
      assert.equal(out.status, 0, `${line}\n${out.stderr}`);
      last = out.stdout;
    }
    const shown = blocks[i + 1];
    if (shown?.lang !== 'text') return;
    const printed = last.trimEnd().split('\n').map(flat);
    for (const want of shown.body.trimEnd().split('\n'))
      assert.ok(printed.includes(flat(want)), `${b.where}: ${JSON.stringify(want)} in\n${last}`);
    checked++;
  });
  assert.equal(checked, 2, 'both commands with an output block were checked');
  const listed = (await http(d.url, 'GET', `/v1/derivations?query=${asset.asset_id}`)).body;
  assert.equal(listed.length, 2, 'the first attempt and the forced one');
});

test('docs/derivations.md: the JSON requests answer the views the page shows', async () => {
  const json = blocks.filter((b) => b.lang === 'json').map((b) => JSON.parse(b.body));
  assert.equal(json.length, 4, 'text request, its view, audio request, its view');
  const [textReq, textView, audioReq, audioView] = json;
  const asset = await uploadAsset(d.url, 'doc.txt', 'text/plain', 'page example\n');
  const res = await http(d.url, 'POST', '/v1/derivations', withAsset(textReq, asset.asset_id));
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(shape(res.body), shape(textView));
  for (const k of ['profile', 'status', 'reused_subject_asset', 'profile_version', 'cache_status'])
    assert.equal(res.body[k], textView[k], k);
  assert.equal(res.body.result_asset_id, asset.asset_id, 'the subject itself, as shown');

  const clip = await uploadAsset(d.url, 'clip.wav', 'audio/wav', wav(150, 16_000, 612));
  server.enqueue({ kind: 'text', text: 'Ada speaking' });
  const audio = await http(d.url, 'POST', '/v1/derivations', withAsset(audioReq, clip.asset_id));
  assert.equal(audio.status, 200, audio.text);
  assert.deepEqual(shape(audio.body), shape(audioView));
  for (const k of ['kind', 'provider', 'model', 'pipeline_version', 'stitching_strategy', 'part_count'])
    assert.equal(audio.body.backend[k], audioView.backend[k], `backend.${k}`);
  const sent = server.requests.at(-1)!;
  assert.deepEqual(sent.fields.prompt, [audioReq.transcription.prompt]);
  assert.deepEqual(sent.fields.language, [audioReq.transcription.language]);
});
