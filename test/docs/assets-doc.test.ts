// docs/assets.md, followed as written: its shell blocks run in order in one bash session (so
// `$ASSET` carries over) from a scratch directory, against a real daemon, with `kheish-daemon` on
// PATH. The block after a command holds what it printed: a text block line by line (asset ids and
// times normalized), a JSON block as a JSON value.
import assert from 'node:assert/strict';
import { readFileSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { startDaemon, tempDir } from '../helpers/daemon.ts';
import { checkShownOutputs, runBashSession } from './bash-session.ts';
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
    const outputs = runBashSession(shells, { cwd: dir, daemon: d });
    const checked = checkShownOutputs(blocks, shells, outputs, { norm: normalize });
    assert.equal(checked, 8, 'every command with an output block was checked');
  } finally {
    await d.kill();
    await d.cleanup();
  }
});
