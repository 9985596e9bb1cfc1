// docs/learnings.md, followed as written: its routes file and script are written where the page
// names them, the daemon starts with the page's `serve` flags, every `kheish-daemon` line of the
// worked example runs in order (<candidate_id> is the candidate the previous create printed,
// <learning_id> the first learning published), and each output block after a command holds lines
// it printed. Then what the page says happened: the equivalent statement reused the learning id,
// the Hermes publication superseded it, the run left a run_summary candidate, and the bulk revoke
// retired the live workspace fact. The page's policy JSON is accepted as written.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { BIN, http, startDaemon, tempDir } from '../helpers/daemon.ts';
import { fencedBlocks, fileNamedBefore, cliArgs as words } from './markdown.ts';

const DOC = resolve(import.meta.dirname, '../../docs/learnings.md');
const text = readFileSync(DOC, 'utf8');
const lines = text.split('\n');
const blocks = fencedBlocks('docs/learnings.md', text);

test('docs/learnings.md: the worked example runs as written', async () => {
  const base = realpathSync(tempDir('kheish-learnings-doc-'));
  const files = blocks
    .filter((b) => b.lang === 'toml' || b.lang === 'json')
    .map((b) => ({ path: fileNamedBefore(lines, b.line, /^`([^`]+)`:$/), body: b.body }))
    .filter((f) => f.path !== undefined);
  assert.deepEqual(
    files.map((f) => f.path),
    ['routes.toml', 'script.json'],
  );
  for (const f of files) writeFileSync(join(base, f.path!), `${f.body}\n`);
  const serve = blocks.find((b) => b.lang === 'sh' && b.body.startsWith('kheish-daemon serve'))!;
  const flags = words(serve.body.trim())
    .slice(1)
    .map((w) => (w.startsWith('--') ? w : join(base, w)));
  const d = await startDaemon({ args: flags });
  const ids: Record<string, string> = {};
  const published: string[] = [];
  const fill = (s: string) =>
    s.replace(/<(candidate_id|learning_id)>/g, (_, k: string) => ids[k] ?? `<${k}>`);
  try {
    const cli = (line: string) => {
      const out = spawnSync(BIN, words(fill(line)), {
        cwd: base,
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, KHEISH_DAEMON_URL: d.url },
      });
      assert.equal(out.status, 0, `${line}\n${out.stdout}\n${out.stderr}`);
      if (line.includes('candidates create'))
        ids.candidate_id = /candidate:\s+(candidate-[0-9a-z]+)/.exec(out.stdout)![1]!;
      if (line.includes('candidates publish')) {
        const id = /learning:\s+(learning-[0-9a-z]+)/.exec(out.stdout)![1]!;
        published.push(id);
        ids.learning_id ??= id;
      }
      return out.stdout;
    };
    let checked = 0;
    const example = blocks.filter((b) => b.line < lines.findIndex((l) => l.startsWith('## 2.')));
    example.forEach((b, i) => {
      if (b.lang !== 'sh' || b === serve) return;
      let last = '';
      for (const line of b.body.trim().split('\n')) last = cli(line);
      const shown = example[i + 1];
      if (shown?.lang !== 'text') return;
      const flat = (l: string) => l.replace(/\s+/g, ' ').trim();
      const printed = last.trimEnd().split('\n').map(flat);
      for (const want of fill(shown.body).trimEnd().split('\n'))
        assert.ok(printed.includes(flat(want)), `${b.where}: ${JSON.stringify(want)} in\n${last}`);
      checked++;
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
