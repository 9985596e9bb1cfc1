// board_reference input items (api-collab §5 "Input reference"; api-core §3.6): resolved for the
// submitting session into a text summary of the revision's state plus its render image, which a
// vision route (Anthropic, through the AI SDK against a local wire server) receives as an image
// block with the exact render bytes. Latest and pinned revisions; another session's board is as
// unknown as a missing one; nothing is created on a refusal. Both stores (KHEISH_TEST_STORE).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, waitForRun } from '../helpers/daemon.ts';
import { png } from '../helpers/media-samples.ts';
import { anthropicLastUser, type MediaRig, startMediaRig } from '../helpers/multimodal-rig.ts';
import { journalPayloads } from '../helpers/state-query.ts';
import { assertProblem, createSession, runCount } from './support.ts';

let rig: MediaRig;
before(async () => {
  rig = await startMediaRig();
});
after(() => rig.close());

async function pixels(bytes: Buffer): Promise<Buffer> {
  const sharp = (await import('sharp')).default;
  return sharp(bytes).removeAlpha().raw().toBuffer();
}

async function asset(file_name: string, media_type: string, bytes: Buffer): Promise<string> {
  const res = await http(rig.d.url, 'POST', '/v1/assets', {
    file_name,
    media_type,
    content_base64: bytes.toString('base64'),
  });
  assert.ok(res.status === 201 || res.status === 200, res.text);
  return res.body.asset_id;
}

async function revision(boardId: string, previous: string | null, render: Buffer, state: unknown) {
  const res = await http(rig.d.url, 'POST', `/v1/boards/${boardId}/revisions`, {
    previous_revision_id: previous,
    render_asset_id: await asset('render.png', 'image/png', render),
    state_asset_id: await asset('state.json', 'application/json', Buffer.from(JSON.stringify(state))),
  });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

test('board_reference (latest and pinned): the model receives the state summary and the render image of that revision', async () => {
  const base = rig.d.url;
  const sid = await createSession(base, 'board-viewer');
  const created = await http(base, 'POST', '/v1/boards', {
    board_id: 'plan',
    display_name: 'Launch plan',
    owner_session_id: sid,
  });
  assert.equal(created.status, 201, created.text);
  const v1Png = png(12, 10, 3);
  const v2Png = png(12, 10, 90);
  const v1 = await revision('plan', null, v1Png, {
    schema_version: 1,
    canvas: { width: 12, height: 10 },
    elements: [{ kind: 'text', text: 'draft' }],
  });
  await revision('plan', v1.revision_id, v2Png, {
    schema_version: 1,
    canvas: { width: 12, height: 10 },
    elements: [
      { kind: 'text', text: 'Ship on Tuesday' },
      { kind: 'rect', x: 1, y: 1, width: 3, height: 3 },
    ],
  });

  for (const [item, bytes, words] of [
    [{ type: 'board_reference', board_id: 'plan' }, v2Png, 'Ship on Tuesday'],
    [{ type: 'board_reference', board_id: 'plan', revision_id: v1.revision_id }, v1Png, 'draft'],
  ] as const) {
    rig.anthropic.enqueue({ kind: 'text', deltas: ['seen'] });
    const res = await http(base, 'POST', `/v1/sessions/${sid}/runs`, {
      provider: 'claude',
      input_items: [{ type: 'text', text: 'What does the board say?' }, item],
    });
    assert.equal(res.status, 202, res.text);
    assert.equal((await waitForRun(base, res.body.run_id)).status, 'completed');
    const content = anthropicLastUser(rig.anthropic);
    const text = content
      .filter((c: any) => c.type === 'text')
      .map((c: any) => c.text)
      .join('\n');
    assert.match(text, /What does the board say\?/);
    assert.match(text, /board "Launch plan" \(plan\), revision rev-/);
    assert.ok(text.includes(words), text);
    const image = content.find((c: any) => c.type === 'image');
    assert.ok(image, JSON.stringify(content).slice(0, 400));
    // The store may send its normalized rendering: the pixels are the render's.
    assert.deepEqual(await pixels(Buffer.from(image.source.data, 'base64')), await pixels(bytes));
    // The stored request pins the render by asset id (the revision resolved at submit).
    const [input] = await journalPayloads(rig.d, res.body.run_id, 'input_received');
    assert.ok(input.request.input_items.some((i: any) => i.type === 'asset_reference'));
    assert.ok(!input.request.input_items.some((i: any) => i.type === 'board_reference'));
  }
});

test('board_reference: another session’s board and an unknown board are 404 board_not_found; nothing is created', async () => {
  const base = rig.d.url;
  const owner = await createSession(base, 'board-owner');
  const other = await createSession(base, 'board-other');
  await http(base, 'POST', '/v1/boards', { board_id: 'private', owner_session_id: owner });
  await revision('private', null, png(4, 4, 1), { schema_version: 1, note: 'secret plan' });
  for (const board_id of ['private', 'nope']) {
    const res = await http(base, 'POST', `/v1/sessions/${other}/runs`, {
      input_items: [{ type: 'board_reference', board_id }],
    });
    assertProblem(res, 404, 'boards', 'board_not_found', board_id);
  }
  const pinnedMissing = await http(base, 'POST', `/v1/sessions/${owner}/runs`, {
    input_items: [{ type: 'board_reference', board_id: 'private', revision_id: 'rev-nope' }],
  });
  assertProblem(pinnedMissing, 404, 'boards', 'board_revision_not_found');
  assert.equal(await runCount(base, other), 0);
  assert.equal(await runCount(base, owner), 0);
});
