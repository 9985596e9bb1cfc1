// Board revisions under SIGKILL (api-collab §5): writers race on one board's tip, each retrying on
// conflict with its own client_revision_id, and the daemon is killed at a random point. After the
// restart: every acknowledged revision is there and accepted, the history is one linear chain whose
// tip is the board's latest revision, start-up repair quarantined nothing, and replaying an
// acknowledged body returns the original revision (idempotency across the crash).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { png } from '../helpers/media-samples.ts';
import { api, type CrashRig, daemonStatus, randomInt, runIterations, sleep } from './crash-kit.ts';

const WRITERS = 6;

async function iteration(rig: CrashRig, index: number): Promise<void> {
  const board = `crash-board-${index}`;
  assert.equal((await api(rig.url, 'POST', '/v1/boards', { board_id: board })).status, 201);
  const renders: string[] = [];
  for (let i = 0; i < WRITERS; i++) {
    const res = await api(rig.url, 'POST', '/v1/assets', {
      file_name: `r${i}.png`,
      media_type: 'image/png',
      content_base64: png(6, 6, index * 10 + i).toString('base64'),
    });
    renders.push(res.body.asset_id);
  }
  const acknowledged = new Map<string, { body: Record<string, unknown>; revision_id: string }>();
  const writers = renders.map(async (render, i) => {
    try {
      for (let attempt = 0; attempt < 100; attempt++) {
        const tip = (await api(rig.url, 'GET', `/v1/boards/${board}`)).body.latest_revision_id;
        const body = { previous_revision_id: tip, client_revision_id: `w-${i}`, render_asset_id: render };
        const res = await api(rig.url, 'POST', `/v1/boards/${board}/revisions`, body);
        if (res.status === 201 || res.status === 200) {
          acknowledged.set(`w-${i}`, { body, revision_id: res.body.revision_id });
          return;
        }
        assert.equal(res.status, 409, res.text);
      }
    } catch (err) {
      if (err instanceof assert.AssertionError) throw err;
      // Cut by the kill: either outcome is allowed.
    }
  });
  await sleep(randomInt(5, 200));
  await rig.crash();
  await Promise.all(writers);
  await rig.restart();

  const chain = (await api(rig.url, 'GET', `/v1/boards/${board}/revisions`)).body;
  for (const r of chain) assert.equal(r.status, 'accepted', JSON.stringify(r));
  for (const [i, r] of chain.entries())
    assert.equal(r.previous_revision_id, i === 0 ? null : chain[i - 1].revision_id, 'one linear chain');
  const view = (await api(rig.url, 'GET', `/v1/boards/${board}`)).body;
  assert.equal(view.latest_revision_id, chain.at(-1)?.revision_id ?? null);
  const ids = new Set(chain.map((r: any) => r.revision_id));
  for (const [client, ack] of acknowledged) {
    assert.ok(ids.has(ack.revision_id), `acknowledged ${client} survived`);
    const again = await api(rig.url, 'POST', `/v1/boards/${board}/revisions`, ack.body);
    assert.equal(again.status, 200, again.text);
    assert.equal(again.body.revision_id, ack.revision_id);
  }
  const clients = chain.map((r: any) => r.client_revision_id);
  assert.equal(new Set(clients).size, clients.length, 'each client id landed at most once');
  assert.equal((await daemonStatus(rig.url)).boards.last_repair.quarantined_revisions, 0);
}

test('boards: SIGKILL while writers race on a tip loses no acknowledged revision and keeps one linear chain', async () => {
  await runIterations({}, iteration);
});
