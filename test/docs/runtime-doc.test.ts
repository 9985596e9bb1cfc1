// docs/runtime.md, followed as written: every line of its walkthrough runs against a fresh daemon,
// `runtime revisions` prints what the page shows (times aside), and the two rollbacks leave the
// settings the page says they do.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { BIN, http, startDaemon } from '../helpers/daemon.ts';
import { shellWords } from './markdown.ts';

const DOC = readFileSync(resolve(import.meta.dirname, '../../docs/runtime.md'), 'utf8');

function block(lang: string, index = 0): string[] {
  const blocks = [...DOC.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, 'g'))];
  assert.ok(blocks[index], `docs/runtime.md has ${lang} block #${index}`);
  return blocks[index]![1]!.trimEnd().split('\n');
}

/** Times differ from run to run; column widths follow them. */
const normalize = (lines: string[]) =>
  lines.map((l) =>
    l
      .replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ/, 'TIME')
      .replace(/\s+/g, ' ')
      .trim(),
  );

test('docs/runtime.md: the walkthrough runs as written and shows what the page says', async () => {
  const d = await startDaemon();
  try {
    const run = (line: string) => {
      const args = shellWords(line).slice(1);
      const out = spawnSync(BIN, ['--base-url', d.url, ...args], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(out.status, 0, `${line}: ${out.stderr}`);
      return out.stdout;
    };
    const lines = block('sh');
    const at = lines.indexOf('kheish-daemon runtime revisions');
    assert.ok(at > 0, 'the walkthrough lists the revisions');
    for (const line of lines.slice(0, at)) run(line);
    const shown = block('text');
    assert.deepEqual(normalize(run(lines[at]!).trimEnd().split('\n')), normalize(shown));

    const runtime = async () => (await http(d.url, 'GET', '/v1/runtime')).body;
    run(lines[at + 1]!);
    let now = await runtime();
    assert.equal(now.config.revision, 5);
    assert.equal(now.debug_level, 'off', 'rollback without a target undoes the debug level');
    assert.equal(now.system_prompt.append_prompt, 'Answer in short paragraphs.');
    run(lines[at + 2]!);
    now = await runtime();
    assert.equal(now.config.revision, 6);
    assert.equal(now.permission_mode, 'acceptEdits');
    assert.deepEqual(now.system_prompt, { custom_prompt: 'You are a careful reviewer. Cite file paths.' });
    assert.equal(now.debug_level, 'off');
    const latest = (await http(d.url, 'GET', '/v1/runtime/revisions')).body.revisions[0];
    assert.equal(latest.setting, 'rollback');
    assert.equal(latest.rollback_of_revision, 2);
  } finally {
    await d.kill();
    await d.cleanup();
  }
});
