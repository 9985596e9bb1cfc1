// docs/multimodal.md, followed as written: its ordered request is submitted and reaches a text-only
// route (an openai_compatible wire server) as the page shows; its CLI line runs with the page's
// file; its emit_output call, made by a model (OpenAI wire server), is stored as the page's record.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { responsesToolOutputs } from '../fixtures/providers/responses-wire.ts';
import { BIN, http, tempDir, waitForRun } from '../helpers/daemon.ts';
import { type MediaRig, startMediaRig } from '../helpers/multimodal-rig.ts';
import { journalPayloads } from '../helpers/state-query.ts';
import { fencedBlocks } from './markdown.ts';

const DOC = resolve(import.meta.dirname, '../../docs/multimodal.md');
const blocks = fencedBlocks('docs/multimodal.md', readFileSync(DOC, 'utf8'));
const json = blocks.filter((b) => b.lang === 'json').map((b) => JSON.parse(b.body));
const [ordered, emitCall, emitRecord] = json;

let rig: MediaRig;
before(async () => {
  rig = await startMediaRig();
});
after(() => rig.close());

test('docs/multimodal.md: the ordered request reaches a text-only route as the page shows', async () => {
  const base = rig.d.url;
  await http(base, 'POST', '/v1/sessions', { session_id: 'doc-ordered' });
  rig.compat.enqueue({ kind: 'text', deltas: ['Tuesday.'] });
  const res = await http(base, 'POST', '/v1/sessions/doc-ordered/runs', { ...ordered, provider: 'compat' });
  assert.equal(res.status, 202, res.text);
  assert.equal((await waitForRun(base, res.body.run_id)).status, 'completed');
  const [input] = await journalPayloads(rig.d, res.body.run_id, 'input_received');
  const assetId = input.request.input_items[1].asset_id as string;
  const shown = blocks.find((b) => b.lang === 'text' && b.body.includes('[file notes.md'))!.body;
  const user = rig.compat.requests.at(-1)!.body.messages.at(-1);
  const sent =
    typeof user.content === 'string' ? user.content : user.content.map((c: any) => c.text).join('\n');
  assert.equal(sent, shown.replace('asset-01jw…', assetId));
  const refs = (await http(base, 'GET', `/v1/assets/${assetId}/references`)).body.references;
  assert.deepEqual(
    refs.map((r: any) => [r.domain, r.owner_id, r.role, r.hard]),
    [['runs', res.body.run_id, 'input_attachment', true]],
  );
});

test('docs/multimodal.md: `runs submit --file` uploads the file as an attachment', async () => {
  const dir = realpathSync(tempDir('kheish-mm-doc-'));
  const notes = ordered.input_items[1];
  writeFileSync(join(dir, 'notes.md'), Buffer.from(notes.content_base64, 'base64'));
  const line = blocks.find((b) => b.lang === 'sh' && b.body.includes('--file'))!.body.trim();
  const words = (line.match(/'[^']*'|\S+/g) ?? [])
    .slice(1)
    .map((w) => (w.startsWith("'") ? w.slice(1, -1) : w));
  const out = spawnSync(BIN, words, {
    cwd: dir,
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, KHEISH_DAEMON_URL: rig.d.url },
  });
  assert.equal(out.status, 0, `${line}\n${out.stdout}\n${out.stderr}`);
  const runs = (await http(rig.d.url, 'GET', '/v1/runs?session_id=review')).body;
  assert.equal(runs.length, 1);
  const [attachment] = runs[0].input_attachments;
  assert.equal(attachment.type, 'asset_reference');
  const asset = (await http(rig.d.url, 'GET', `/v1/assets/${attachment.asset_id}`)).body;
  assert.deepEqual([asset.file_name, asset.media_type], ['notes.md', 'text/markdown']);
});

test('docs/multimodal.md: the emit_output call is stored as the page’s output record', async () => {
  const base = rig.d.url;
  const csv = await http(base, 'POST', '/v1/assets', {
    file_name: 'sales.csv',
    media_type: 'text/csv',
    content_base64: Buffer.from('month,total\nJan,10\n').toString('base64'),
  });
  const id = csv.body.asset_id as string;
  const swap = (v: unknown) => JSON.parse(JSON.stringify(v).replaceAll('asset-01jwexample', id));
  await http(base, 'POST', '/v1/sessions', { session_id: 'doc-emit' });
  rig.openai.enqueue(
    { kind: 'tool_call', id: 'call_doc_emit', name: 'emit_output', args: swap(emitCall) },
    { kind: 'text', deltas: ['done'] },
  );
  const res = await http(base, 'POST', '/v1/sessions/doc-emit/runs', {
    provider: 'gpt',
    content: 'chart please',
  });
  const run = await waitForRun(base, res.body.run_id);
  assert.equal(run.status, 'completed', JSON.stringify(run));
  const stored = run.outputs.find((o: any) => o.source_kind === 'emit_output');
  assert.deepEqual(stored, { session_id: 'doc-emit', run_id: run.run_id, ...swap(emitRecord) });
  const result = responsesToolOutputs(rig.openai.requests.at(-1)!.body).find(
    (o) => o.call_id === 'call_doc_emit',
  )!;
  assert.deepEqual(JSON.parse(result.output).attachment_ids, [id]);
});
