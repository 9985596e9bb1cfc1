// Derivations of documents and images (api-core §8.5, decisions #255–#257): a PDF's and a DXF's
// canonical text is their extracted text as a text/plain asset; a DXF's visual preview is its PNG
// rendering; an image's visual preview is its normalized image; an image's canonical text is a
// placeholder notice (no OCR); a PDF has no visual preview (400, nothing persisted).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertProblem } from '../conformance/support.ts';
import { http, startDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { derive } from '../helpers/derivations.ts';
import { dxf, pdf, png } from '../helpers/media-samples.ts';
import { execState } from '../helpers/state-write.ts';

let d: TestDaemon;
const base = () => d.url;

before(async () => {
  d = await startDaemon({ script: { default: { turns: [{ text: 'ok' }] } } });
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
});

async function upload(file_name: string, media_type: string, bytes: Buffer): Promise<any> {
  const res = await http(base(), 'POST', '/v1/assets', {
    file_name,
    media_type,
    content_base64: bytes.toString('base64'),
  });
  assert.ok(res.status === 200 || res.status === 201, `${file_name}: ${res.status} ${res.text}`);
  return res.body;
}
const body = (profile: string, asset_id: string): Record<string, unknown> => ({
  profile,
  subject: { type: 'asset', asset_id },
});
const rawOf = async (id: string) =>
  Buffer.from(await (await fetch(`${base()}/v1/assets/${id}/raw`)).arrayBuffer());
const assetOf = async (id: string) => (await http(base(), 'GET', `/v1/assets/${id}`)).body;

test('derivations: a PDF derives its text; it has no visual preview (400, nothing persisted)', async () => {
  const doc = await upload('report.pdf', 'application/pdf', pdf('Quarterly figures are up'));
  const res = await derive(base(), body('canonical_text', doc.asset_id));
  assert.equal(res.status, 200, res.text);
  assert.deepEqual([res.body.status, res.body.reused_subject_asset], ['completed', false]);
  const result = await assetOf(res.body.result_asset_id);
  assert.equal(result.media_type, 'text/plain');
  assert.equal(result.file_name, 'report.txt');
  assert.match((await rawOf(result.asset_id)).toString('utf8'), /Quarterly figures are up/);
  const before = (await http(base(), 'GET', '/v1/derivations')).body.length;
  assertProblem(
    await derive(base(), body('visual_preview', doc.asset_id)),
    400,
    'derivations',
    'unsupported_derivation',
  );
  assert.equal((await http(base(), 'GET', '/v1/derivations')).body.length, before);
});

test('derivations: a DXF plan derives a PNG visual preview and its text', async () => {
  const plan = await upload('floor.dxf', 'application/dxf', dxf('KITCHEN'));
  const preview = await derive(base(), body('visual_preview', plan.asset_id));
  assert.equal(preview.status, 200, preview.text);
  assert.equal(preview.body.status, 'completed');
  assert.equal(preview.body.reused_subject_asset, false);
  const image = await assetOf(preview.body.result_asset_id);
  assert.equal(image.media_type, 'image/png');
  assert.equal(image.sha256, plan.preview_image_sha256 ?? image.sha256);
  assert.deepEqual((await rawOf(image.asset_id)).subarray(1, 4).toString('ascii'), 'PNG');
  assert.deepEqual(image.derivation_ids, [preview.body.derivation_id]);
  assert.equal((await derive(base(), body('visual_preview', plan.asset_id))).body.cache_status, 'hit');
  const text = await derive(base(), body('canonical_text', plan.asset_id));
  assert.equal(text.status, 200, text.text);
  assert.match((await rawOf(text.body.result_asset_id)).toString('utf8'), /KITCHEN/);
});

test('derivations: an image previews as its normalized image; its canonical text is a notice (no OCR)', async () => {
  const img = await upload('shot.png', 'image/png', png(16, 12, 3));
  const preview = await derive(base(), body('visual_preview', img.asset_id));
  assert.equal(preview.status, 200, preview.text);
  assert.equal(preview.body.status, 'completed');
  const shown = await assetOf(preview.body.result_asset_id);
  assert.match(shown.media_type, /^image\/(png|jpeg)$/);
  assert.equal(preview.body.reused_subject_asset, shown.asset_id === img.asset_id);
  const text = await derive(base(), body('canonical_text', img.asset_id));
  assert.equal(text.status, 200, text.text);
  assert.match(
    (await rawOf(text.body.result_asset_id)).toString('utf8'),
    /^\[image shot\.png \(asset-[0-9a-z]+, image\/png\): no canonical text; the daemon does not run OCR/,
  );
});

test('derivations (decision 261): at start-up a completed record whose result asset is gone becomes failed; retry_failed recomputes it', async () => {
  const doc = await upload('lost.pdf', 'application/pdf', pdf('Soon to be lost'));
  const made = (await derive(base(), body('canonical_text', doc.asset_id))).body;
  assert.equal(made.status, 'completed');
  await d.stop();
  // Behind the daemon's back: the result's catalog row disappears.
  await execState(d, 'delete from assets where asset_id = ?', [made.result_asset_id]);
  d = await d.restart();
  const repaired = (await http(base(), 'GET', `/v1/derivations/${made.derivation_id}`)).body;
  assert.equal(repaired.status, 'failed');
  assert.equal(repaired.result_asset_id, null);
  assert.match(repaired.error, /no longer available/);
  const replay = await derive(base(), body('canonical_text', doc.asset_id));
  assert.deepEqual([replay.body.derivation_id, replay.body.cache_status], [made.derivation_id, 'hit']);
  const retried = await derive(base(), body('canonical_text', doc.asset_id), '?retry_failed=true');
  assert.deepEqual([retried.body.status, retried.body.cache_status], ['completed', 'miss']);
  assert.match((await rawOf(retried.body.result_asset_id)).toString('utf8'), /Soon to be lost/);
});
