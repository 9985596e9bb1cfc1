// docs/personas.md, followed as written: its files are written where the page names them, the
// daemon starts with the page's `serve` flags, every `kheish-daemon` line of its shell blocks runs
// in order from that directory, and the output block after a command holds what it printed (tables
// exactly, key/value views line by line).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { BIN, http, startDaemon, tempDir } from '../helpers/daemon.ts';
import { fencedBlocks, fileNamedBefore, cliArgs as words } from './markdown.ts';

const DOC = resolve(import.meta.dirname, '../../docs/personas.md');
const text = readFileSync(DOC, 'utf8');
const lines = text.split('\n');
const blocks = fencedBlocks('docs/personas.md', text);

const fileOf = (line: number) => fileNamedBefore(lines, line, /`([^`]+\.md)`:$/);

test('docs/personas.md: the walkthrough runs as written and prints what the page shows', async () => {
  const base = realpathSync(tempDir('kheish-personas-doc-'));
  const files = blocks
    .filter((b) => b.lang === 'markdown')
    .map((b) => ({ path: fileOf(b.line), body: b.body }));
  assert.deepEqual(
    files.map((f) => f.path),
    ['skills/tone/SKILL.md', 'skills/checklist/SKILL.md', 'reviewer.md', 'reviewer-v2.md'],
  );
  for (const f of files) {
    mkdirSync(dirname(join(base, f.path!)), { recursive: true });
    writeFileSync(join(base, f.path!), `${f.body}\n`);
  }
  const serve = blocks.find((b) => b.lang === 'sh' && b.body.startsWith('kheish-daemon serve'))!;
  const flags = words(serve.body.trim())
    .slice(1)
    .map((w) => (w.startsWith('--') ? w : join(base, w)));
  const d = await startDaemon({
    script: { default: { turns: [{ text: 'ok' }] } },
    args: flags,
    env: { HOME: join(base, 'home') },
  });
  try {
    const cli = (line: string) => {
      const out = spawnSync(BIN, words(line), {
        cwd: base,
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, KHEISH_DAEMON_URL: d.url },
      });
      assert.equal(out.status, 0, `${line}\n${out.stderr}`);
      return out.stdout;
    };
    let checked = 0;
    blocks.forEach((b, i) => {
      if (b.lang !== 'sh' || b === serve) return;
      let last = '';
      for (const line of b.body.trim().split('\n')) last = cli(line);
      const shown = blocks[i + 1];
      if (shown?.lang !== 'text') return;
      // Key/value views pad keys to the longest one printed: compare with spaces collapsed.
      const flat = (l: string) => l.replace(/\s+/g, ' ').trim();
      const printed = last.trimEnd().split('\n').map(flat);
      if (shown.body.startsWith('NAME')) assert.equal(last.trimEnd(), shown.body.trimEnd(), b.where);
      else
        for (const want of shown.body.trimEnd().split('\n'))
          assert.ok(printed.includes(flat(want)), `${b.where}: ${JSON.stringify(want)} in\n${last}`);
      checked++;
    });
    assert.equal(checked, 7, 'every command with an output block was checked');

    // What the page says beyond the printed lines.
    const s1 = (await http(d.url, 'GET', '/v1/sessions/review-1')).body;
    assert.deepEqual(s1.capability_scope, { skill_allow: ['checklist', 'deploy'] });
    assert.deepEqual(s1.effective_capability_scope, { skill_allow: ['checklist'] });
    assert.ok(!JSON.stringify(s1).includes('"soul"'));
    const record = (await http(d.url, 'GET', '/v1/personas/reviewer')).body;
    assert.equal(record.version, 2);
    assert.match(record.soul, /Start with the tests/);
    assert.equal(record.display_name, 'Code reviewer', 'the first heading');
    assert.deepEqual(record.default_skills, ['tone']);
    const listed = cli('kheish-daemon sessions list --persona-id reviewer');
    assert.match(listed, /review-1/);
    assert.match(listed, /review-2/);

    // The HTTP bodies of the page are accepted as they are.
    const json = blocks.filter((b) => b.lang === 'json').map((b) => JSON.parse(b.body));
    const created = await http(d.url, 'POST', '/v1/personas', { ...json[0], persona_id: 'reviewer-http' });
    assert.equal(created.status, 201, created.text);
    const put = await http(d.url, 'PUT', '/v1/personas/reviewer-http', json[1]);
    assert.equal(put.status, 200, put.text);
    assert.equal(put.body.version, 2);
    const taken = await http(d.url, 'POST', '/v1/personas', json[0]);
    assert.equal(taken.status, 409);
    assert.equal(taken.body.code, 'persona_already_exists');
  } finally {
    await d.kill();
    await d.cleanup();
  }
});
