// docs/assets.md, followed as written: its shell blocks run in order in one bash session (so
// `$ASSET` carries over) from a scratch directory, against a real daemon, with `kheish-daemon` on
// PATH. The block after a command holds what it printed: a text block line by line (asset ids and
// times normalized), a JSON block as a JSON value.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { test } from 'node:test';
import { BIN, startDaemon, tempDir } from '../helpers/daemon.ts';
import { fencedBlocks } from './markdown.ts';

const DOC = resolve(import.meta.dirname, '../../docs/assets.md');
const blocks = fencedBlocks('docs/assets.md', readFileSync(DOC, 'utf8'));

const normalize = (l: string) =>
  l
    .replace(/asset-[0-9a-z]{26}/g, 'asset-ID')
    .replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ/g, 'TIME')
    .replace(/\s+/g, ' ')
    .trim();

test('docs/assets.md: the walkthrough runs as written and prints what the page shows', async () => {
  const dir = realpathSync(tempDir('kheish-assets-doc-'));
  const d = await startDaemon();
  try {
    const shells = blocks.filter((b) => b.lang === 'sh');
    assert.ok(shells.length >= 8, 'the page has its walkthrough');
    const script = ['set -euo pipefail', ...shells.flatMap((b, i) => [b.body, `echo "@@block ${i}@@"`])].join(
      '\n',
    );
    const run = spawnSync('bash', ['-c', script], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 120_000,
      env: {
        ...process.env,
        KHEISH_DAEMON_URL: d.url,
        PATH: `${dirname(BIN)}:${dirname(process.execPath)}:${process.env.PATH}`,
      },
    });
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
    const outputs = run.stdout.split(/@@block \d+@@\n/);
    let checked = 0;
    shells.forEach((b, i) => {
      const shown = blocks[blocks.indexOf(b) + 1];
      const printed = outputs[i]!;
      if (shown?.lang === 'text') {
        const lines = printed.trimEnd().split('\n').map(normalize);
        for (const want of shown.body.trimEnd().split('\n'))
          assert.ok(lines.includes(normalize(want)), `${b.where}: ${JSON.stringify(want)} in\n${printed}`);
        checked++;
      } else if (shown?.lang === 'json') {
        assert.deepEqual(JSON.parse(printed), JSON.parse(shown.body), b.where);
        checked++;
      }
    });
    assert.equal(checked, 8, 'every command with an output block was checked');
  } finally {
    await d.kill();
    await d.cleanup();
  }
});
