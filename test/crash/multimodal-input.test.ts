// Crashes around runs with files (SIGKILL). Inline files are imported before the run's transaction
// and the run's references commit with its row, so after a restart: every accepted run still has
// its file and its reference, a resumed run sends the file to the route again from the asset
// store, and an upload whose run never committed holds no reference (GC may take it).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, waitForRun } from '../helpers/daemon.ts';
import { type MediaRig, startMediaRig } from '../helpers/multimodal-rig.ts';
import { journalPayloads } from '../helpers/state-query.ts';
import { ITERATIONS, randomInt, sleep } from './crash-kit.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

let rig: MediaRig;
before(async () => {
  rig = await startMediaRig();
});
after(() => rig.close());

async function restart(): Promise<void> {
  await rig.d.kill();
  rig.d = await rig.d.restart();
}

test('crash during the model call of a run with a document: it resumes and the route receives the document again', async () => {
  const base = () => rig.d.url;
  await http(base(), 'POST', '/v1/sessions', { session_id: 'crash-doc' });
  rig.compat.enqueue({ kind: 'hang', deltas: [] });
  const seen = rig.compat.requests.length;
  const res = await http(base(), 'POST', '/v1/sessions/crash-doc/runs', {
    provider: 'compat',
    input_items: [
      { type: 'text', text: 'Summarize:' },
      {
        type: 'inline_asset',
        file_name: 'minutes.txt',
        media_type: 'text/plain',
        content_base64: b64('We ship Friday.'),
      },
    ],
  });
  assert.equal(res.status, 202, res.text);
  for (let i = 0; rig.compat.requests.length === seen && i < 400; i++) await sleep(25);
  assert.ok(rig.compat.requests.length > seen, 'the model call started');
  await restart();
  rig.compat.enqueue({ kind: 'text', deltas: ['Friday.'] });
  const done = await waitForRun(base(), res.body.run_id, undefined, 30_000);
  assert.equal(done.status, 'completed', JSON.stringify(done));
  const user = rig.compat.requests.at(-1)!.body.messages.at(-1);
  const sent =
    typeof user.content === 'string' ? user.content : user.content.map((c: any) => c.text).join('\n');
  assert.match(sent, /^Summarize:\n\[file minutes\.txt \(asset-[^)]+\), text\/plain\]\nWe ship Friday\.$/);
  const [input] = await journalPayloads(rig.d, res.body.run_id, 'input_received');
  const refs = (await http(base(), 'GET', `/v1/assets/${input.request.input_items[1].asset_id}/references`))
    .body;
  assert.equal(refs.hard_reference_count, 1);
});

test('SIGKILL at random points while files are submitted: every accepted run keeps its file and reference', async () => {
  for (let i = 0; i < ITERATIONS; i++) {
    const sid = `crash-files-${i}`;
    await http(rig.d.url, 'POST', '/v1/sessions', { session_id: sid });
    const accepted: string[] = [];
    const url = rig.d.url;
    const submitting = (async () => {
      for (let k = 0; k < 50; k++) {
        const res = await http(url, 'POST', `/v1/sessions/${sid}/runs`, {
          content: `file ${k}`,
          attachments: [
            { type: 'inline_asset', file_name: `f-${i}-${k}.txt`, content_base64: b64(`payload ${i} ${k}`) },
          ],
        }).catch(() => null);
        if (!res) return;
        if (res.status === 202) accepted.push(res.body.run_id);
      }
    })();
    await sleep(randomInt(20, 250));
    await restart();
    await submitting;
    for (const runId of accepted) {
      const run = await http(rig.d.url, 'GET', `/v1/runs/${runId}`);
      assert.equal(run.status, 200, `accepted run ${runId} survived`);
      const [attachment] = run.body.input_attachments;
      assert.equal(attachment.type, 'asset_reference');
      const refs = (await http(rig.d.url, 'GET', `/v1/assets/${attachment.asset_id}/references`)).body;
      assert.ok(
        refs.references.some((r: any) => r.owner_id === runId && r.role === 'input_attachment' && r.hard),
        `run ${runId} holds its file`,
      );
      await waitForRun(rig.d.url, runId, undefined, 30_000);
    }
  }
});
