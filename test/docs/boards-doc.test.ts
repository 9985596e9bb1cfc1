// docs/boards.md, followed as written: its routes file, script and state document are written where
// the page names them, the daemon starts with the page's `serve` flags, every `kheish-daemon` line
// of its shell blocks runs in order (the ids the page writes <revision_id>, <render_asset_id> and
// <state_asset_id> are the ones the commands before printed), and the output block after a command
// holds lines it printed. Then what the page says happened: the agent's drawing and the operator's
// revision form one chain, the retry returned the same revision, and the page's board_reference
// body resolves to the render plus a state summary.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { http, waitForRun } from '../helpers/daemon.ts';
import { journalPayloads } from '../helpers/state-query.ts';
import { cliLine, filler, readPage, runShellBlocks, startPageDaemon } from './walkthrough.ts';

const page = readPage('boards.md');
const { blocks } = page;

test('docs/boards.md: the worked example runs as written', async () => {
  const { base, serve, d } = await startPageDaemon(page, {
    prefix: 'kheish-boards-doc-',
    files: ['routes.toml', 'script.json', 'review.json'],
  });
  const ids: Record<string, string> = {};
  const fill = filler(ids, /revision_id|render_asset_id|state_asset_id/);
  const revisionsPrinted: string[] = [];
  try {
    const checked = await runShellBlocks(blocks, {
      skip: serve,
      fill,
      run: (line) => {
        const out = cliLine(d, base, fill(line));
        if (line.includes('boards get')) {
          ids.revision_id = /latest revision:\s+(rev-[0-9a-z]+)/.exec(out)![1]!;
          ids.render_asset_id = /latest render:\s+(asset-[0-9a-z]+)/.exec(out)![1]!;
        }
        if (line.includes('assets import')) ids.state_asset_id = /asset-[0-9a-z]+/.exec(out)![0];
        if (line.includes('boards revise')) revisionsPrinted.push(/rev-[0-9a-z]+/.exec(out)![0]);
        return out;
      },
    });
    assert.equal(checked, 2, 'every command with an output block was checked');

    assert.equal(revisionsPrinted.length, 2);
    assert.equal(revisionsPrinted[0], revisionsPrinted[1], 'the retry printed the same revision');
    const chain = (await http(d.url, 'GET', '/v1/boards/arch/revisions')).body;
    assert.deepEqual(
      chain.map((r: any) => [r.revision_id, r.previous_revision_id]),
      [
        [ids.revision_id, null],
        [revisionsPrinted[0], ids.revision_id],
      ],
    );
    assert.equal(chain[0].metadata.author, 'architect');

    // The page's board_reference body, submitted where the page says.
    const body = blocks.filter((b) => b.lang === 'json').map((b) => JSON.parse(b.body))[2];
    const res = await http(d.url, 'POST', '/v1/sessions/architect/runs', body);
    assert.equal(res.status, 202, res.text);
    assert.equal((await waitForRun(d.url, res.body.run_id)).status, 'completed');
    const [input] = await journalPayloads(d, res.body.run_id, 'input_received');
    const items = input.request.input_items;
    assert.equal(items[1].type, 'text');
    assert.match(items[1].text, /board "Architecture" \(arch\), revision rev-.*Reviewed: add a cache/);
    assert.deepEqual(items[2], { type: 'asset_reference', asset_id: ids.render_asset_id });
  } finally {
    await d.kill();
    await d.cleanup();
  }
});
