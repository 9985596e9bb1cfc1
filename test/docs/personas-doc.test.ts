// docs/personas.md, followed as written: its files are written where the page names them, the
// daemon starts with the page's `serve` flags, every `kheish-daemon` line of its shell blocks runs
// in order from that directory, and the output block after a command holds what it printed (tables
// exactly, key/value views line by line).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { http, startDaemon } from '../helpers/daemon.ts';
import { assertShown, cliLine, pageWorkspace, readPage, runShellBlocks } from './walkthrough.ts';

const page = readPage('personas.md');
const { blocks } = page;

test('docs/personas.md: the walkthrough runs as written and prints what the page shows', async () => {
  const { base, serve, flags } = pageWorkspace(page, {
    prefix: 'kheish-personas-doc-',
    langs: ['markdown'],
    named: /`([^`]+\.md)`:$/,
    files: ['skills/tone/SKILL.md', 'skills/checklist/SKILL.md', 'reviewer.md', 'reviewer-v2.md'],
  });
  const d = await startDaemon({
    script: { default: { turns: [{ text: 'ok' }] } },
    args: flags,
    env: { HOME: join(base, 'home') },
  });
  try {
    const cli = (line: string) => cliLine(d, base, line);
    const checked = await runShellBlocks(blocks, {
      skip: serve,
      run: cli,
      check: (last, shown, b) => {
        if (shown.startsWith('NAME')) assert.equal(last.trimEnd(), shown.trimEnd(), b.where);
        else assertShown(last, shown, b.where);
      },
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
