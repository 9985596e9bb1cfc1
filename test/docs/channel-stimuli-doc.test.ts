// docs/channel-stimuli.md, followed as written: every `kheish-daemon` line of its shell blocks runs
// in order against a fresh daemon, and the text block after a command holds lines of what it
// printed (ids shown as `stim-…`/`msg-…`, times as `<time>`, spaces collapsed). Read commands are
// retried for a few seconds: the stimulus worker posts in the background.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { BIN, startDaemon } from '../helpers/daemon.ts';
import { fencedBlocks, cliArgs as words } from './markdown.ts';

const DOC = resolve(import.meta.dirname, '../../docs/channel-stimuli.md');
const blocks = fencedBlocks('docs/channel-stimuli.md', readFileSync(DOC, 'utf8'));

const flat = (l: string) =>
  l
    .replace(/stim-[0-9a-z]{26}/g, 'stim-…')
    .replace(/msg-[0-9a-z]{26}/g, 'msg-…')
    .replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ/g, '<time>')
    .replace(/\s+/g, ' ')
    .trim();

test('docs/channel-stimuli.md: the walkthrough runs as written and prints what the page shows', async () => {
  const d = await startDaemon({
    script: { default: { turns: [{ text: 'NO_REPLY' }] } },
    env: { KHEISH_STIMULUS_TICK_MS: '100' },
  });
  try {
    const cli = (line: string) => {
      const out = spawnSync(BIN, words(line), {
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, KHEISH_DAEMON_URL: d.url },
      });
      return { status: out.status, text: out.status === 0 ? out.stdout : out.stderr };
    };
    const shown = (text: string, want: string) => text.split('\n').map(flat).includes(flat(want));
    let checked = 0;
    for (let i = 0; i < blocks.length; i++) {
      const b = blocks[i]!;
      if (b.lang !== 'sh') continue;
      const expect = blocks[i + 1]?.lang === 'text' ? blocks[i + 1]!.body.trimEnd().split('\n') : null;
      const lines = b.body.trim().split('\n');
      const outputs: string[] = [];
      for (const line of lines) {
        let r = cli(line);
        const read = line === lines.at(-1) && / (list|get|thread-work) /.test(`${line} `);
        for (
          let t = 0;
          read && expect && t < 50 && !expect.every((w) => outputs.concat(r.text).some((o) => shown(o, w)));
          t++
        ) {
          await new Promise((res) => setTimeout(res, 100));
          r = cli(line);
        }
        if (!expect?.[0]?.startsWith('error:')) assert.equal(r.status, 0, `${b.where}: ${line}\n${r.text}`);
        else assert.equal(r.status, 7, `${b.where}: ${line} should be refused\n${r.text}`);
        outputs.push(r.text);
      }
      if (!expect) continue;
      for (const want of expect)
        assert.ok(
          outputs.some((o) => shown(o, want)),
          `${b.where}: ${JSON.stringify(want)} in\n${outputs.join('\n')}`,
        );
      checked++;
    }
    assert.equal(checked, 4, 'every command with an output block was checked');
    // The thread-work table the page shows after its last block.
    const work = cli('kheish-daemon channels thread-work ops');
    const last = blocks.at(-1)!;
    for (const want of blocks
      .filter((x) => x.lang === 'text')
      .at(-1)!
      .body.trimEnd()
      .split('\n'))
      assert.ok(shown(work.text, want), `${last.where}: ${JSON.stringify(want)} in\n${work.text}`);
  } finally {
    await d.kill();
    await d.cleanup();
  }
});
