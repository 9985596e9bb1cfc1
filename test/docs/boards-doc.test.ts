// docs/boards.md, followed as written: its routes file, script and state document are written where
// the page names them, the daemon starts with the page's `serve` flags, every `kheish-daemon` line
// of its shell blocks runs in order (the ids the page writes <revision_id>, <render_asset_id> and
// <state_asset_id> are the ones the commands before printed), and the output block after a command
// holds lines it printed. Then what the page says happened: the agent's drawing and the operator's
// revision form one chain, the retry returned the same revision, and the page's board_reference
// body resolves to the render plus a state summary.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { BIN, http, startDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';
import { journalPayloads } from '../helpers/state-query.ts';
import { fencedBlocks, fileNamedBefore, cliArgs as words } from './markdown.ts';

const DOC = resolve(import.meta.dirname, '../../docs/boards.md');
const text = readFileSync(DOC, 'utf8');
const lines = text.split('\n');
const blocks = fencedBlocks('docs/boards.md', text);

test('docs/boards.md: the worked example runs as written', async () => {
  const base = realpathSync(tempDir('kheish-boards-doc-'));
  const files = blocks
    .filter((b) => b.lang === 'toml' || b.lang === 'json')
    .map((b) => ({ path: fileNamedBefore(lines, b.line, /^`([^`]+)`:$/), body: b.body }))
    .filter((f) => f.path !== undefined);
  assert.deepEqual(
    files.map((f) => f.path),
    ['routes.toml', 'script.json', 'review.json'],
  );
  for (const f of files) writeFileSync(join(base, f.path!), `${f.body}\n`);
  const serve = blocks.find((b) => b.lang === 'sh' && b.body.startsWith('kheish-daemon serve'))!;
  const flags = words(serve.body.trim())
    .slice(1)
    .map((w) => (w.startsWith('--') ? w : join(base, w)));
  const d = await startDaemon({ args: flags });
  const ids: Record<string, string> = {};
  const fill = (s: string) =>
    s.replace(/<(revision_id|render_asset_id|state_asset_id)>/g, (_, k: string) => ids[k] ?? `<${k}>`);
  const revisionsPrinted: string[] = [];
  try {
    const cli = (line: string) => {
      const out = spawnSync(BIN, words(fill(line)), {
        cwd: base,
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, KHEISH_DAEMON_URL: d.url },
      });
      assert.equal(out.status, 0, `${line}\n${out.stdout}\n${out.stderr}`);
      if (line.includes('boards get')) {
        ids.revision_id = /latest revision:\s+(rev-[0-9a-z]+)/.exec(out.stdout)![1]!;
        ids.render_asset_id = /latest render:\s+(asset-[0-9a-z]+)/.exec(out.stdout)![1]!;
      }
      if (line.includes('assets import')) ids.state_asset_id = /asset-[0-9a-z]+/.exec(out.stdout)![0];
      if (line.includes('boards revise')) revisionsPrinted.push(/rev-[0-9a-z]+/.exec(out.stdout)![0]);
      return out.stdout;
    };
    let checked = 0;
    blocks.forEach((b, i) => {
      if (b.lang !== 'sh' || b === serve) return;
      let last = '';
      for (const line of b.body.trim().split('\n')) last = cli(line);
      const shown = blocks[i + 1];
      if (shown?.lang !== 'text') return;
      const flat = (l: string) => l.replace(/\s+/g, ' ').trim();
      const printed = last.trimEnd().split('\n').map(flat);
      for (const want of fill(shown.body).trimEnd().split('\n'))
        assert.ok(printed.includes(flat(want)), `${b.where}: ${JSON.stringify(want)} in\n${last}`);
      checked++;
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
