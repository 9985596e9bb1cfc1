// board_draw (api-collab §5, agent drawing): a scripted agent draws a batch on a board; the new
// revision's render is decoded (sharp raw pixels) and sampled where the filled rectangle was drawn
// (the author's stable colour) and where nothing was (the previous render, unchanged); its state
// appends the stamped elements to the previous state. Concurrent drawers on one board all land on
// one linear chain (retrying on the fresh tip). Both stores (KHEISH_TEST_STORE).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { authorColour } from '../../src/features/boards/draw.ts';
import { http, startDaemon, type TestDaemon, waitForRun } from '../helpers/daemon.ts';
import { createSession } from './support.ts';

const rect = { kind: 'rect', x: 10, y: 20, width: 40, height: 30, filled: true };
const SCRIPT = {
  rules: [
    {
      match: 'draw a box',
      turns: [
        {
          tool_calls: [
            {
              name: 'board_draw',
              arguments: {
                board_id: 'sketch',
                elements: [rect, { kind: 'text', x: 70, y: 40, text: 'API' }],
                note: 'the API box',
              },
            },
          ],
        },
        { text: 'drawn' },
      ],
    },
    {
      match: 'crowd draw',
      turns: [
        {
          tool_calls: [
            {
              name: 'board_draw',
              arguments: { board_id: 'crowd', elements: [{ kind: 'line', x1: 0, y1: 0, x2: 50, y2: 50 }] },
            },
          ],
        },
        { text: 'drawn' },
      ],
    },
  ],
  default: { turns: [{ text: 'ok' }] },
};

let d: TestDaemon;
before(async () => {
  d = await startDaemon({ script: SCRIPT });
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
});

async function rawOf(assetId: string) {
  const sharp = (await import('sharp')).default;
  const res = await fetch(`${d.url}/v1/assets/${assetId}/raw`);
  assert.equal(res.status, 200);
  const { data, info } = await sharp(Buffer.from(await res.arrayBuffer()))
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const at = (x: number, y: number) => {
    const i = (y * info.width + x) * info.channels;
    return `#${[data[i], data[i + 1], data[i + 2]].map((v) => v!.toString(16).padStart(2, '0')).join('')}`;
  };
  return { info, at };
}

async function drawRun(sid: string, content: string) {
  const res = await http(d.url, 'POST', `/v1/sessions/${sid}/runs`, { content });
  assert.equal(res.status, 202, res.text);
  return waitForRun(d.url, res.body.run_id);
}

test('board_draw paints the batch in the author’s colour over the previous render and appends stamped elements to the state', async () => {
  const sid = await createSession(d.url, 'painter');
  assert.equal((await http(d.url, 'POST', '/v1/boards', { board_id: 'sketch' })).status, 201);
  const run = await drawRun(sid, 'draw a box');
  assert.equal(run.status, 'completed', JSON.stringify(run));
  const revs = (await http(d.url, 'GET', '/v1/boards/sketch/revisions')).body;
  assert.equal(revs.length, 1);
  const rev = revs[0];
  assert.equal(rev.source_session_id, sid);
  assert.equal(rev.source_run_id, run.run_id);
  assert.equal(rev.note, 'the API box');
  const colour = authorColour(sid);
  assert.equal(rev.metadata.color, colour);
  assert.equal(rev.metadata.author, sid);

  const { info, at } = await rawOf(rev.render_asset_id);
  assert.deepEqual([info.width, info.height], [1280, 720]);
  assert.equal(at(30, 35), colour, 'inside the filled rect');
  assert.equal(at(600, 600), '#ffffff', 'untouched canvas');

  const state: any = await (await fetch(`${d.url}/v1/assets/${rev.state_asset_id}/raw`)).json();
  assert.equal(state.schema_version, 1);
  assert.equal(state.board_id, 'sketch');
  assert.equal(state.elements.length, 2);
  assert.deepEqual(state.elements[0], { ...rect, author: sid, author_session_id: sid, color: colour });

  // A second drawing keeps the first one's pixels and elements.
  const again = await drawRun(sid, 'draw a box again');
  assert.equal(again.status, 'completed');
  const chain = (await http(d.url, 'GET', '/v1/boards/sketch/revisions')).body;
  assert.equal(chain.length, 2);
  assert.equal(chain[1].previous_revision_id, rev.revision_id);
  const second = await rawOf(chain[1].render_asset_id);
  assert.equal(second.at(30, 35), colour);
  const state2: any = await (await fetch(`${d.url}/v1/assets/${chain[1].state_asset_id}/raw`)).json();
  assert.equal(state2.elements.length, 4);
  assert.equal(state2.previous_revision_id, rev.revision_id);
});

test('board_draw: concurrent drawers on one board all land on one linear chain', async () => {
  assert.equal((await http(d.url, 'POST', '/v1/boards', { board_id: 'crowd' })).status, 201);
  const sids = await Promise.all([1, 2, 3, 4].map((i) => createSession(d.url, `drawer-${i}`)));
  const runs = await Promise.all(sids.map((sid) => drawRun(sid, 'crowd draw')));
  for (const r of runs) assert.equal(r.status, 'completed', JSON.stringify(r));
  const chain = (await http(d.url, 'GET', '/v1/boards/crowd/revisions')).body;
  assert.equal(chain.length, 4);
  chain.forEach((r: any, i: number) => {
    assert.equal(r.previous_revision_id, i === 0 ? null : chain[i - 1].revision_id);
  });
  const last: any = await (await fetch(`${d.url}/v1/assets/${chain[3].state_asset_id}/raw`)).json();
  assert.deepEqual(new Set(last.elements.map((e: any) => e.author)), new Set(sids));
});
