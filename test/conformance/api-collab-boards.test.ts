// Boards conformance (api-collab §5; checklist #48–50) on the store the run picks
// (KHEISH_TEST_STORE=postgres for PostgreSQL): linear revisions with compare-and-swap, idempotent
// client_revision_id across a restart, typed refusals of bad render and state assets (nothing
// stored), hard asset references, and startup repair of a render corrupted behind the daemon.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { collectSse, http, startDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { png } from '../helpers/media-samples.ts';
import { execState } from '../helpers/state-write.ts';
import { assertProblem, SCRIPT } from './support.ts';

let d: TestDaemon;
before(async () => {
  d = await startDaemon({ script: SCRIPT });
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
});

let seed = 0;
async function asset(file_name: string, media_type: string, bytes: Buffer): Promise<string> {
  const res = await http(d.url, 'POST', '/v1/assets', {
    file_name,
    media_type,
    content_base64: bytes.toString('base64'),
  });
  assert.ok(res.status === 201 || res.status === 200, res.text);
  return res.body.asset_id;
}
const image = () => asset(`r${++seed}.png`, 'image/png', png(8, 8, ++seed));
const stateAsset = (state: unknown) =>
  asset(`s${++seed}.json`, 'application/json', Buffer.from(JSON.stringify(state)));

async function board(id: string) {
  const res = await http(d.url, 'POST', '/v1/boards', { board_id: id, display_name: `Board ${id}` });
  assert.equal(res.status, 201, res.text);
  return res.body;
}
const revisions = async (id: string) => (await http(d.url, 'GET', `/v1/boards/${id}/revisions`)).body;

test('api-collab #48: two revision POSTs on the current tip: exactly one succeeds, the other is 409 board_revision_conflict', async () => {
  await board('race');
  const first = await http(d.url, 'POST', '/v1/boards/race/revisions', { render_asset_id: await image() });
  assert.equal(first.status, 201, first.text);
  assert.equal(first.body.previous_revision_id, null);
  assert.equal(first.body.sequence, 1);
  const tip = first.body.revision_id;
  const [a, b] = [await image(), await image()];
  const results = await Promise.all(
    [a, b].map((r) =>
      http(d.url, 'POST', '/v1/boards/race/revisions', { previous_revision_id: tip, render_asset_id: r }),
    ),
  );
  assert.deepEqual(results.map((r) => r.status).sort(), [201, 409]);
  assertProblem(results.find((r) => r.status === 409)!, 409, 'boards', 'board_revision_conflict');
  // A stale parent and a missing parent on a non-empty board are the same conflict.
  assertProblem(
    await http(d.url, 'POST', '/v1/boards/race/revisions', { previous_revision_id: tip, render_asset_id: a }),
    409,
    'boards',
    'board_revision_conflict',
  );
  assertProblem(
    await http(d.url, 'POST', '/v1/boards/race/revisions', { render_asset_id: a }),
    409,
    'boards',
    'board_revision_conflict',
  );
  const view = (await http(d.url, 'GET', '/v1/boards/race')).body;
  assert.equal(view.revision_count, 2);
  assert.equal(view.latest_revision_id, results.find((r) => r.status === 201)!.body.revision_id);
});

test('api-collab #48: 20 concurrent writers on one board form one linear chain; no accepted revision is lost, losers got 409', async () => {
  await board('crowd');
  const renders = await Promise.all(Array.from({ length: 20 }, () => image()));
  const accepted: string[] = [];
  let conflicts = 0;
  // Each writer reads the tip and retries on conflict until it lands (bounded).
  await Promise.all(
    renders.map(async (render) => {
      for (let attempt = 0; attempt < 200; attempt++) {
        const tip = (await http(d.url, 'GET', '/v1/boards/crowd')).body.latest_revision_id;
        const res = await http(d.url, 'POST', '/v1/boards/crowd/revisions', {
          previous_revision_id: tip,
          render_asset_id: render,
        });
        if (res.status === 201) {
          accepted.push(res.body.revision_id);
          return;
        }
        assertProblem(res, 409, 'boards', 'board_revision_conflict');
        conflicts++;
      }
      assert.fail('a writer never landed');
    }),
  );
  assert.equal(accepted.length, 20);
  assert.ok(conflicts > 0, 'the writers did race');
  const chain = await revisions('crowd');
  assert.equal(chain.length, 20);
  assert.deepEqual(new Set(chain.map((r: any) => r.revision_id)), new Set(accepted));
  chain.forEach((r: any, i: number) => {
    assert.equal(r.sequence, i + 1);
    assert.equal(r.previous_revision_id, i === 0 ? null : chain[i - 1].revision_id);
  });
  assert.equal((await http(d.url, 'GET', '/v1/boards/crowd')).body.latest_revision_id, chain[19].revision_id);
  // Each accepted revision, and only those, is a durable board_revision_created event.
  const { frames } = await collectSse(`${d.url}/v1/events/stream?cursor=0`, {
    until: (f) =>
      f.filter((x) => x.event === 'board_revision_created' && x.data.board_id === 'crowd').length >= 20,
  });
  const announced = frames
    .filter((f) => f.event === 'board_revision_created' && f.data.board_id === 'crowd')
    .map((f) => f.data);
  assert.deepEqual(
    announced.map((a) => a.revision_id),
    chain.map((r: any) => r.revision_id),
  );
  assert.deepEqual(
    announced.map((a) => a.sequence),
    chain.map((r: any) => r.sequence),
  );
});

test('api-collab #49: the same client_revision_id and payload returns the original revision, even after a restart; another payload is 409 board_revision_idempotency_conflict', async () => {
  await board('idem');
  const render = await image();
  const body = { client_revision_id: 'c-1', render_asset_id: render, note: 'first draft' };
  const first = await http(d.url, 'POST', '/v1/boards/idem/revisions', body);
  assert.equal(first.status, 201, first.text);
  const again = await http(d.url, 'POST', '/v1/boards/idem/revisions', body);
  assert.equal(again.status, 200, again.text);
  assert.equal(again.body.revision_id, first.body.revision_id);
  assertProblem(
    await http(d.url, 'POST', '/v1/boards/idem/revisions', { ...body, note: 'other' }),
    409,
    'boards',
    'board_revision_idempotency_conflict',
  );
  await d.stop();
  d = await d.restart();
  const afterRestart = await http(d.url, 'POST', '/v1/boards/idem/revisions', body);
  assert.equal(afterRestart.status, 200, afterRestart.text);
  assert.equal(afterRestart.body.revision_id, first.body.revision_id);
  assertProblem(
    await http(d.url, 'POST', '/v1/boards/idem/revisions', { ...body, note: 'changed' }),
    409,
    'boards',
    'board_revision_idempotency_conflict',
  );
  assert.equal((await revisions('idem')).length, 1);
});

test('api-collab #50: every malformed state envelope is 400 board_state_invalid and nothing is stored', async () => {
  await board('states');
  const render = await image();
  const bad: unknown[] = [
    { schema_version: 2, elements: [{ kind: 'rect' }] },
    { schema_version: 'kheish.board_state.v2', canvas: { width: 10, height: 10 } },
    { elements: [{ kind: 'rect' }] },
    { schema_version: 1 },
    {
      schema_version: 1,
      canvas: {},
      elements: [],
      strokes: [],
      layers: [],
      assets: [],
      metadata: {},
      note: '  ',
    },
    { schema_version: 1, board_id: 'another', elements: [{ kind: 'rect' }] },
    { schema_version: 1, previous_revision_id: 'rev-nope', elements: [{ kind: 'rect' }] },
    { schema_version: 1, elements: [{ kind: 'image', image_asset_id: 'asset-missing' }] },
    { schema_version: 1, assets: ['asset-missing'] },
    { schema_version: 1, elements: [{ asset_ids: 'not-a-list' }] },
    [1, 2, 3],
  ];
  for (const state of bad) {
    const res = await http(d.url, 'POST', '/v1/boards/states/revisions', {
      render_asset_id: render,
      state_asset_id: await stateAsset(state),
    });
    assertProblem(res, 400, 'boards', 'board_state_invalid');
  }
  const textState = await asset('s.txt', 'text/plain', Buffer.from('{"schema_version":1,"note":"x"}'));
  assertProblem(
    await http(d.url, 'POST', '/v1/boards/states/revisions', {
      render_asset_id: render,
      state_asset_id: textState,
    }),
    400,
    'boards',
    'board_state_invalid',
  );
  assert.deepEqual(await revisions('states'), []);
  assert.equal((await http(d.url, 'GET', '/v1/boards/states')).body.latest_revision_id, null);
  // Each accepted schema_version form is taken.
  let parent: string | null = null;
  for (const v of [1, '1', 'kheish.board_state.v1']) {
    const res: any = await http(d.url, 'POST', '/v1/boards/states/revisions', {
      previous_revision_id: parent,
      render_asset_id: render,
      state_asset_id: await stateAsset({
        schema_version: v,
        board_id: 'states',
        previous_revision_id: parent,
        elements: [{ kind: 'rect', x: 1 }],
      }),
    });
    assert.equal(res.status, 201, res.text);
    parent = res.body.revision_id;
  }
});

test('api-collab #50: a render that is not a readable image is 400 board_asset_missing; embedded and render assets become hard references', async () => {
  await board('renders');
  const text = await asset('notes.txt', 'text/plain', Buffer.from('not an image'));
  for (const render_asset_id of [text, 'asset-does-not-exist'])
    assertProblem(
      await http(d.url, 'POST', '/v1/boards/renders/revisions', { render_asset_id }),
      400,
      'boards',
      'board_asset_missing',
    );
  assert.deepEqual(await revisions('renders'), []);

  const render = await image();
  const embedded = await image();
  const state = await stateAsset({
    schema_version: 1,
    elements: [{ kind: 'image', nested: { image_asset_id: embedded } }],
  });
  const res = await http(d.url, 'POST', '/v1/boards/renders/revisions', {
    render_asset_id: render,
    state_asset_id: state,
  });
  assert.equal(res.status, 201, res.text);
  const refs = (await http(d.url, 'GET', `/v1/assets/${embedded}/references`)).body;
  const list = Array.isArray(refs) ? refs : (refs.references ?? refs.items);
  const ref = list.find((r: any) => r.domain === 'boards');
  assert.equal(ref?.role, 'state_embedded_asset', JSON.stringify(refs));
  assert.equal(ref.hard, true);
  assert.equal(ref.owner_id, res.body.revision_id);
  const del = await http(d.url, 'DELETE', `/v1/assets/${embedded}`);
  assert.ok(del.status >= 400, `a referenced asset is not deleted: ${del.text}`);
  const delRender = await http(d.url, 'DELETE', `/v1/assets/${render}`);
  assert.ok(delRender.status >= 400, `the render is not deleted: ${delRender.text}`);
});

test('boards: a render corrupted behind the daemon is quarantined at start; the tip is the last valid revision of the chain', async () => {
  await board('repair');
  const bytes = png(9, 9, 77);
  const r1 = await http(d.url, 'POST', '/v1/boards/repair/revisions', { render_asset_id: await image() });
  const bad = await asset('bad.png', 'image/png', bytes);
  const r2 = await http(d.url, 'POST', '/v1/boards/repair/revisions', {
    previous_revision_id: r1.body.revision_id,
    render_asset_id: bad,
  });
  const r3 = await http(d.url, 'POST', '/v1/boards/repair/revisions', {
    previous_revision_id: r2.body.revision_id,
    render_asset_id: await image(),
  });
  assert.equal(r3.status, 201, r3.text);
  await d.stop();
  const digest = createHash('sha256').update(bytes).digest('hex');
  if (d.databaseUrl)
    await execState(d, 'update asset_payloads set data = ? where sha256 = ?', [
      Buffer.from('forged'),
      digest,
    ]);
  else writeFileSync(join(d.stateRoot, 'blobs', 'assets', digest.slice(0, 2), digest), 'forged');
  d = await d.restart();
  const chain = await revisions('repair');
  assert.deepEqual(
    chain.map((r: any) => r.status),
    ['accepted', 'quarantined', 'quarantined'],
  );
  assert.match(chain[1].quarantine_reason, /invalid/);
  assert.match(chain[2].quarantine_reason, /unreachable/);
  const view = (await http(d.url, 'GET', '/v1/boards/repair')).body;
  assert.equal(view.latest_revision_id, r1.body.revision_id);
  assert.equal(view.quarantined_revision_count, 2);
  const status = (await http(d.url, 'GET', '/v1/status')).body;
  assert.ok(status.boards.last_repair.quarantined_revisions >= 2, JSON.stringify(status.boards));
  // New work continues from the repaired tip.
  const next = await http(d.url, 'POST', '/v1/boards/repair/revisions', {
    previous_revision_id: r1.body.revision_id,
    render_asset_id: await image(),
  });
  assert.equal(next.status, 201, next.text);
});

test('boards: a fork written behind the daemon is quarantined at start (no branch preferred); the tip is the fork point', async () => {
  await board('forked');
  const r1 = await http(d.url, 'POST', '/v1/boards/forked/revisions', { render_asset_id: await image() });
  const r2 = await http(d.url, 'POST', '/v1/boards/forked/revisions', {
    previous_revision_id: r1.body.revision_id,
    render_asset_id: await image(),
  });
  assert.equal(r2.status, 201, r2.text);
  await d.stop();
  await execState(
    d,
    `insert into board_revisions (revision_id, board_id, sequence, previous_revision_id, client_revision_id,
       payload_digest, render_asset_id, state_asset_id, note, source_session_id, source_run_id, metadata,
       status, quarantine_reason, created_at_ms)
     values ('rev-sibling', 'forked', 99, ?, null, 'x', ?, null, null, null, null, null, 'accepted', null, ?)`,
    [r1.body.revision_id, r2.body.render_asset_id, Date.now()],
  );
  d = await d.restart();
  const chain = await revisions('forked');
  const byId = new Map(chain.map((r: any) => [r.revision_id, r]));
  assert.equal((byId.get(r1.body.revision_id) as any).status, 'accepted');
  for (const id of [r2.body.revision_id, 'rev-sibling']) {
    assert.equal((byId.get(id) as any).status, 'quarantined', id);
    assert.match((byId.get(id) as any).quarantine_reason, /non-linear/);
  }
  assert.equal((await http(d.url, 'GET', '/v1/boards/forked')).body.latest_revision_id, r1.body.revision_id);
});

test('boards: records — list filters, PUT, one revision, typed 404s and 409s', async () => {
  const owner = await http(d.url, 'POST', '/v1/sessions', { session_id: 'board-owner' });
  assert.ok(owner.status === 201 || owner.status === 200, owner.text);
  const created = await http(d.url, 'POST', '/v1/boards', {
    board_id: 'records-1',
    display_name: 'Roadmap',
    owner_session_id: 'board-owner',
    metadata: { team: 'core' },
  });
  assert.equal(created.status, 201, created.text);
  assert.deepEqual(
    [created.body.latest_revision_id, created.body.revision_count, created.body.metadata],
    [null, 0, { team: 'core' }],
  );
  assertProblem(
    await http(d.url, 'POST', '/v1/boards', { board_id: 'records-1' }),
    409,
    'boards',
    'board_already_exists',
  );
  assertProblem(
    await http(d.url, 'POST', '/v1/boards', { board_id: 'records-2', owner_session_id: 'nobody' }),
    404,
    'sessions',
    'session_not_found',
  );
  const generated = await http(d.url, 'POST', '/v1/boards', {});
  assert.match(generated.body.board_id, /^board-/);
  assert.deepEqual(
    (await http(d.url, 'GET', '/v1/boards?query=roadMAP')).body.map((b: any) => b.board_id),
    ['records-1'],
  );
  assert.deepEqual(
    (await http(d.url, 'GET', '/v1/boards?owner_session_id=board-owner')).body.map((b: any) => b.board_id),
    ['records-1'],
  );
  const put = await http(d.url, 'PUT', '/v1/boards/records-1', {
    display_name: 'Roadmap Q3',
    metadata: null,
  });
  assert.equal(put.status, 200, put.text);
  assert.deepEqual(
    [put.body.display_name, put.body.metadata, put.body.owner_session_id],
    ['Roadmap Q3', null, 'board-owner'],
  );
  const rev = await http(d.url, 'POST', '/v1/boards/records-1/revisions', {
    render_asset_id: await image(),
    note: 'n',
  });
  const one = await http(d.url, 'GET', `/v1/boards/records-1/revisions/${rev.body.revision_id}`);
  assert.deepEqual(one.body, rev.body);
  assertProblem(await http(d.url, 'GET', '/v1/boards/nope'), 404, 'boards', 'board_not_found');
  assertProblem(
    await http(d.url, 'PUT', '/v1/boards/nope', { display_name: 'x' }),
    404,
    'boards',
    'board_not_found',
  );
  assertProblem(await http(d.url, 'GET', '/v1/boards/nope/revisions'), 404, 'boards', 'board_not_found');
  assertProblem(
    await http(d.url, 'GET', '/v1/boards/records-1/revisions/rev-nope'),
    404,
    'boards',
    'board_revision_not_found',
  );
  const bad = await http(d.url, 'POST', '/v1/boards/records-1/revisions', { note: 'no render' });
  assert.equal(bad.status, 400, bad.text);
});
