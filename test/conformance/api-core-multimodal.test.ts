// Files in run input (api-core §3.6, concepts §4.6) on every entry point: inline files become
// assets before the 202, the stored request and the journal keep asset ids, the run (or schedule)
// references its files in its own transaction, refusals create nothing, and released files render
// as a notice. Real daemon; text-only and vision routes through the AI SDK against local wire
// servers. Runs on SQLite and, with KHEISH_TEST_STORE=postgres, on PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { http, waitForRun } from '../helpers/daemon.ts';
import { anthropicLastUser, type MediaRig, startMediaRig } from '../helpers/multimodal-rig.ts';
import { journalPayloads } from '../helpers/state-query.ts';
import { assertProblem, createSession, runCount } from './support.ts';

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
const NOTES = '# Notes\nThe launch moves to Tuesday.\n';

let rig: MediaRig;
before(async () => {
  rig = await startMediaRig();
});
after(() => rig.close());

describe('multimodal input', () => {
  test('api-core #35: input_items with an inline file: imported before the 202, stored as an asset_reference, referenced by the run', async () => {
    const base = rig.d.url;
    const sid = await createSession(base, 'mm-inline');
    const res = await http(base, 'POST', `/v1/sessions/${sid}/runs`, {
      input_items: [
        { type: 'text', text: 'Read this:' },
        {
          type: 'inline_asset',
          file_name: 'notes.md',
          media_type: 'text/markdown',
          content_base64: b64(NOTES),
        },
      ],
    });
    assert.equal(res.status, 202, res.text);
    assert.ok(!JSON.stringify(res.body).includes(b64(NOTES)), 'no bytes in the run view');
    const journal = await journalPayloads(rig.d, res.body.run_id, 'input_received');
    assert.equal(journal.length, 1);
    assert.ok(!JSON.stringify(journal).includes('content_base64'), 'the journal holds ids, never bytes');
    const items = journal[0].request.input_items;
    assert.equal(items.length, 2);
    assert.deepEqual(items[0], { type: 'text', text: 'Read this:' });
    assert.equal(items[1].type, 'asset_reference');
    const assetId = items[1].asset_id as string;

    const asset = await http(base, 'GET', `/v1/assets/${assetId}`);
    assert.equal(asset.status, 200);
    assert.equal(asset.body.file_name, 'notes.md');
    assert.equal(asset.body.media_type, 'text/markdown');

    const refs = await http(base, 'GET', `/v1/assets/${assetId}/references`);
    assert.equal(refs.status, 200);
    assert.equal(refs.body.hard_reference_count, 1);
    const ref = refs.body.references[0];
    assert.deepEqual(
      [ref.domain, ref.owner_id, ref.role, ref.hard, ref.parent_id],
      ['runs', res.body.run_id, 'input_attachment', true, sid],
    );
    await waitForRun(base, res.body.run_id);
  });

  test('api-core #83: deleting an asset referenced as a run input returns 409 assets/asset_delete_blocked', async () => {
    const base = rig.d.url;
    const sid = await createSession(base, 'mm-delete');
    const imported = await http(base, 'POST', '/v1/assets', {
      file_name: 'keep.txt',
      media_type: 'text/plain',
      content_base64: b64('keep me'),
    });
    assert.ok(imported.status === 200 || imported.status === 201, imported.text);
    const id = imported.body.asset_id;
    const run = await http(base, 'POST', `/v1/sessions/${sid}/runs`, {
      content: 'see attachment',
      attachments: [{ type: 'asset_reference', asset_id: id }],
    });
    assert.equal(run.status, 202, run.text);
    assert.deepEqual(run.body.input_attachments, [{ type: 'asset_reference', asset_id: id }]);
    await waitForRun(base, run.body.run_id);
    assertProblem(await http(base, 'DELETE', `/v1/assets/${id}`), 409, 'assets', 'asset_delete_blocked');
    assert.equal((await http(base, 'GET', `/v1/assets/${id}`)).status, 200);
  });

  test('an unknown asset_reference is refused (404 assets/asset_not_found) on /runs and /input, nothing created', async () => {
    const base = rig.d.url;
    const sid = await createSession(base, 'mm-unknown');
    for (const endpoint of ['runs', 'input']) {
      for (const body of [
        { input_items: [{ type: 'asset_reference', asset_id: 'asset-nope' }] },
        { content: 'x', attachments: [{ type: 'asset_reference', asset_id: 'asset-nope' }] },
      ]) {
        const res = await http(base, 'POST', `/v1/sessions/${sid}/${endpoint}`, body);
        assertProblem(res, 404, 'assets', 'asset_not_found', endpoint);
      }
    }
    const board = await http(base, 'POST', `/v1/sessions/${sid}/runs`, {
      input_items: [{ type: 'board_reference', board_id: 'board-1' }],
    });
    assertProblem(board, 404, 'boards', 'board_not_found');
    const badB64 = await http(base, 'POST', `/v1/sessions/${sid}/runs`, {
      input_items: [{ type: 'inline_asset', file_name: 'a.txt', content_base64: 'not base64!' }],
    });
    assertProblem(badB64, 400, 'assets', 'invalid_asset_request');
    assert.equal(await runCount(base, sid), 0);
  });

  test('a text document on a text-only route (openai_compatible) reaches the provider as its text, in order', async () => {
    const base = rig.d.url;
    const sid = await createSession(base, 'mm-compat');
    rig.compat.enqueue({ kind: 'text', deltas: ['Tuesday.'] });
    const res = await http(base, 'POST', `/v1/sessions/${sid}/runs`, {
      provider: 'compat',
      input_items: [
        { type: 'text', text: 'When is the launch?' },
        {
          type: 'inline_asset',
          file_name: 'notes.md',
          media_type: 'text/markdown',
          content_base64: b64(NOTES),
        },
        { type: 'text', text: 'Answer in one word.' },
      ],
    });
    assert.equal(res.status, 202, res.text);
    const done = await waitForRun(base, res.body.run_id);
    assert.equal(done.status, 'completed', JSON.stringify(done));
    const user = rig.compat.requests.at(-1)!.body.messages.at(-1);
    const sent =
      typeof user.content === 'string' ? user.content : user.content.map((c: any) => c.text).join('\n');
    const [input] = await journalPayloads(rig.d, res.body.run_id, 'input_received');
    const assetId = input.request.input_items[1].asset_id;
    const expected = `When is the launch?\n[file notes.md (${assetId}), text/markdown]\n${NOTES}\nAnswer in one word.`;
    assert.equal(sent, expected);
  });

  test('legacy content + attachments: the files follow the text (Anthropic receives text, then the document text)', async () => {
    const base = rig.d.url;
    const sid = await createSession(base, 'mm-legacy');
    rig.anthropic.enqueue({ kind: 'text', deltas: ['ok'] });
    const res = await http(base, 'POST', `/v1/sessions/${sid}/input`, {
      provider: 'claude',
      content: 'Summarize the attachment.',
      attachments: [
        {
          type: 'inline_asset',
          file_name: 'data.csv',
          media_type: 'text/csv',
          content_base64: b64('a,b\n1,2\n'),
        },
      ],
    });
    assert.equal(res.status, 200, res.text);
    const content = anthropicLastUser(rig.anthropic);
    assert.equal(content.length, 1);
    assert.match(
      content[0].text,
      /^Summarize the attachment\.\n\[file data\.csv \(asset-[^)]+\), text\/csv\]\na,b\n1,2\n$/,
    );
  });
});

describe('released files', () => {
  test('a file released (prune release_assets) and collected by GC shows as a notice in the session’s later calls', async () => {
    const base = rig.d.url;
    const sid = await createSession(base, 'mm-gone');
    rig.compat.enqueue({ kind: 'text', deltas: ['read'] });
    const first = await http(base, 'POST', `/v1/sessions/${sid}/input`, {
      provider: 'compat',
      input_items: [
        { type: 'text', text: 'Keep this in mind:' },
        {
          type: 'inline_asset',
          file_name: 'gone.txt',
          media_type: 'text/plain',
          content_base64: b64('short-lived'),
        },
      ],
    });
    assert.equal(first.status, 200, first.text);
    const [run] = (await http(base, 'GET', `/v1/runs?session_id=${sid}`)).body;
    const [input] = await journalPayloads(rig.d, run.run_id, 'input_received');
    const assetId = input.request.input_items[1].asset_id;
    await new Promise((r) => setTimeout(r, 20));
    const pruned = await http(base, 'POST', '/v1/runs/prune', {
      older_than_ms: 1,
      session_id: sid,
      release_assets: true,
    });
    assert.equal(pruned.status, 200, pruned.text);
    const gc = await http(base, 'POST', '/v1/assets/gc', { dry_run: false });
    assert.ok(gc.body.deleted_asset_ids.includes(assetId), gc.text);
    rig.compat.enqueue({ kind: 'text', deltas: ['gone'] });
    const second = await http(base, 'POST', `/v1/sessions/${sid}/input`, {
      provider: 'compat',
      content: 'What was it?',
    });
    assert.equal(second.status, 200, second.text);
    const messages = rig.compat.requests.at(-1)!.body.messages;
    // The earlier user turn (the recovered_memory system section also quotes its request).
    const earlier = messages.find(
      (m: any) => m.role === 'user' && JSON.stringify(m.content).includes('Keep this in mind'),
    );
    const text =
      typeof earlier.content === 'string'
        ? earlier.content
        : earlier.content.map((c: any) => c.text).join('\n');
    assert.equal(text, `Keep this in mind:\n[asset no longer available: ${assetId}]`);
  });
});

describe('compaction', () => {
  test('a summary call that covers a turn with a file sends the file the way the route takes it', async () => {
    const base = rig.d.url;
    const sid = await createSession(base, 'mm-compact');
    rig.compat.enqueue(
      { kind: 'text', deltas: ['noted'] },
      { kind: 'text', deltas: ['ok'] },
      { kind: 'text', deltas: ['SUMMARY'] },
      { kind: 'text', deltas: ['done'] },
    );
    const send = async (body: Record<string, unknown>) => {
      const res = await http(base, 'POST', `/v1/sessions/${sid}/input`, { provider: 'compatsmall', ...body });
      assert.equal(res.status, 200, res.text);
    };
    await send({
      input_items: [
        { type: 'text', text: 'Remember this file:' },
        {
          type: 'inline_asset',
          file_name: 'facts.txt',
          media_type: 'text/plain',
          content_base64: b64('The code is 4417.'),
        },
      ],
    });
    await send({ content: 'Second message.' });
    await send({ content: `Third message, long enough to pass the window: ${'words '.repeat(120)}` });
    const summary = rig.compat.requests.find((r) =>
      JSON.stringify(r.body.messages.at(-1)).includes('Summarise the conversation so far'),
    );
    assert.ok(summary, 'the session was compacted');
    assert.ok(
      JSON.stringify(summary!.body.messages).includes('The code is 4417.'),
      'the summary saw the file text',
    );
  });
});

describe('other entry points', () => {
  test('an agent subtask with an inline file: the child run references the imported asset', async () => {
    const base = rig.d.url;
    const parent = await http(base, 'POST', '/v1/sessions', { session_id: 'mm-parent' });
    assert.equal(parent.status, 201, parent.text);
    const res = await http(base, 'POST', `/v1/agents/${parent.body.agent_id}/sidechains`, {
      subtask: {
        name: 'read',
        input_items: [
          { type: 'text', text: 'Read the notes.' },
          {
            type: 'inline_asset',
            file_name: 'sub.md',
            media_type: 'text/markdown',
            content_base64: b64('sub notes'),
          },
        ],
      },
    });
    assert.equal(res.status, 201, res.text);
    const runId = res.body.launch_run_id as string;
    const [input] = await journalPayloads(rig.d, runId, 'input_received');
    const item = input.request.input_items[1];
    assert.equal(item.type, 'asset_reference');
    const refs = (await http(base, 'GET', `/v1/assets/${item.asset_id}/references`)).body.references;
    assert.ok(
      refs.some((r: any) => r.domain === 'runs' && r.owner_id === runId && r.role === 'input_attachment'),
    );
    await waitForRun(base, runId);

    const unknown = await http(base, 'POST', `/v1/agents/${parent.body.agent_id}/sidechains`, {
      subtask: { name: 'x', input_items: [{ type: 'asset_reference', asset_id: 'asset-none' }] },
    });
    assertProblem(unknown, 404, 'assets', 'asset_not_found');
  });

  test('a schedule with an inline file imports it once and holds it until it completes; the run it fires references it', async () => {
    const base = rig.d.url;
    const sid = await createSession(base, 'mm-scheduled');
    const res = await http(base, 'POST', '/v1/schedules', {
      name: 'with-file',
      target_session_id: sid,
      cadence: { type: 'once', fire_at_ms: Date.now() + 800 },
      request: {
        content: 'weekly digest',
        attachments: [{ type: 'inline_asset', file_name: 'digest.txt', content_base64: b64('digest body') }],
      },
    });
    assert.equal(res.status, 201, res.text);
    const list = (await http(base, 'GET', '/v1/assets?query=digest.txt')).body;
    const rows = Array.isArray(list) ? list : list.items;
    const asset = rows.find((a: any) => a.file_name === 'digest.txt');
    assert.ok(asset, JSON.stringify(list));
    const held = (await http(base, 'GET', `/v1/assets/${asset.asset_id}/references`)).body.references;
    assert.deepEqual(
      held.map((r: any) => [r.domain, r.owner_id, r.role, r.hard]),
      [['schedules', res.body.schedule_id, 'input_attachment', true]],
    );
    let runs: any[] = [];
    for (let i = 0; i < 400 && runs.length === 0; i++) {
      runs = (await http(base, 'GET', `/v1/runs?session_id=${sid}`)).body;
      if (runs.length === 0) await new Promise((r) => setTimeout(r, 25));
    }
    assert.equal(runs.length, 1, 'the schedule fired');
    assert.equal(runs[0].kind, 'scheduled_input');
    assert.deepEqual(runs[0].input_attachments, [{ type: 'asset_reference', asset_id: asset.asset_id }]);
    await waitForRun(base, runs[0].run_id);
    // The `once` schedule completed: it let go of the file; the run it fired holds it.
    const refs = (await http(base, 'GET', `/v1/assets/${asset.asset_id}/references`)).body.references;
    assert.deepEqual(
      refs.map((r: any) => [r.domain, r.owner_id, r.role, r.hard]),
      [['runs', runs[0].run_id, 'input_attachment', true]],
    );
  });
});

describe('schedule cancel', () => {
  test('canceling a schedule drops its hold on its files', async () => {
    const base = rig.d.url;
    const sid = await createSession(base, 'mm-sched-cancel');
    const res = await http(base, 'POST', '/v1/schedules', {
      name: 'to-cancel',
      target_session_id: sid,
      cadence: { type: 'interval', every_seconds: 3600 },
      request: {
        input_items: [{ type: 'inline_asset', file_name: 'c.txt', content_base64: b64('cancel me') }],
      },
    });
    assert.equal(res.status, 201, res.text);
    const list = (await http(base, 'GET', '/v1/assets?query=c.txt')).body;
    const asset = (Array.isArray(list) ? list : list.items).find((a: any) => a.file_name === 'c.txt');
    assert.equal(
      (await http(base, 'GET', `/v1/assets/${asset.asset_id}/references`)).body.hard_reference_count,
      1,
    );
    const canceled = await http(base, 'POST', `/v1/schedules/${res.body.schedule_id}/cancel`);
    assert.equal(canceled.status, 200, canceled.text);
    assert.equal(
      (await http(base, 'GET', `/v1/assets/${asset.asset_id}/references`)).body.hard_reference_count,
      0,
    );
  });
});
