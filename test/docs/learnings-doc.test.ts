// docs/learnings.md, followed as written: its routes file and script are written where the page
// names them, the daemon starts with the page's `serve` flags, every `kheish-daemon` line of the
// worked example runs in order (<candidate_id> is the candidate the previous create printed,
// <learning_id> the first learning published), and each output block after a command holds lines
// it printed. Then what the page says happened: the equivalent statement reused the learning id,
// the Hermes publication superseded it, the run left a run_summary candidate, and the bulk revoke
// retired the live workspace fact. The page's policy JSON is accepted as written.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { http } from '../helpers/daemon.ts';
import { cliLine, filler, readPage, runShellBlocks, startPageDaemon } from './walkthrough.ts';

const page = readPage('learnings.md');
const { lines, blocks } = page;

test('docs/learnings.md: the worked example runs as written', async () => {
  const { base, serve, d } = await startPageDaemon(page, {
    prefix: 'kheish-learnings-doc-',
    files: ['routes.toml', 'script.json'],
  });
  const ids: Record<string, string> = {};
  const published: string[] = [];
  const fill = filler(ids, /candidate_id|learning_id/);
  try {
    const example = blocks.filter((b) => b.line < lines.findIndex((l) => l.startsWith('## 2.')));
    const checked = await runShellBlocks(example, {
      skip: serve,
      fill,
      run: (line) => {
        const out = cliLine(d, base, fill(line));
        if (line.includes('candidates create'))
          ids.candidate_id = /candidate:\s+(candidate-[0-9a-z]+)/.exec(out)![1]!;
        if (line.includes('candidates publish')) {
          const id = /learning:\s+(learning-[0-9a-z]+)/.exec(out)![1]!;
          published.push(id);
          ids.learning_id ??= id;
        }
        return out;
      },
    });
    assert.equal(checked, 4, 'every command with an output block was checked');

    assert.equal(published.length, 3);
    assert.equal(published[1], published[0], 'the equivalent statement reused the learning id');
    assert.notEqual(published[2], published[0]);
    const old = (await http(d.url, 'GET', `/v1/learnings/${published[0]}`)).body;
    assert.equal(old.status, 'superseded');
    assert.equal(old.superseded_by, published[2]);
    assert.equal((await http(d.url, 'GET', `/v1/learnings/${published[2]}`)).body.status, 'revoked');
    const summaries = (
      await http(d.url, 'GET', '/v1/learning-candidates?kind=run_summary&scope_kind=session&scope_id=ops')
    ).body;
    assert.equal(summaries.length, 1);

    // The page's policy, as written, is a valid policy.
    const policy = JSON.parse(
      blocks.find((b) => b.lang === 'json' && b.body.includes('"publication"'))!.body,
    );
    const set = await http(d.url, 'POST', '/v1/runtime/learning-policy', { policy });
    assert.equal(set.status, 200, set.text);
    assert.equal(set.body.learning_policy.publication.rules.length, 2);
  } finally {
    await d.kill();
    await d.cleanup();
  }
});
