// docs/deliveries.md, followed as written: `receiver.py` is written from the page's Python block,
// the shell blocks run in order in one bash session (so `$DEAD` carries over) against a real
// daemon with `kheish-daemon` on PATH, the receiver listening on a free port instead of 8787. The
// block after a command holds what it printed: a text block line by line (times normalized), a
// JSON block as a JSON value.
import assert from 'node:assert/strict';
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { startDaemon, tempDir } from '../helpers/daemon.ts';
import { freePort } from '../helpers/external-sidecar.ts';
import { checkShownOutputs, runBashSession } from './bash-session.ts';
import { fencedBlocks } from './markdown.ts';

const DOC = resolve(import.meta.dirname, '../../docs/deliveries.md');
const blocks = fencedBlocks('docs/deliveries.md', readFileSync(DOC, 'utf8'));

const normalize = (l: string) =>
  l
    .replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ/g, 'TIME')
    .replace(/\s+/g, ' ')
    .trim();

test('docs/deliveries.md: the walk-through runs as written and prints what the page shows', async () => {
  const dir = realpathSync(tempDir('kheish-deliveries-doc-'));
  const python = blocks.filter((b) => b.lang === 'python');
  assert.equal(python.length, 1, 'the page has its receiver');
  writeFileSync(join(dir, 'receiver.py'), python[0]!.body);
  const port = String(await freePort());
  const d = await startDaemon({ env: { KHEISH_DELIVERY_INITIAL_RETRY_MS: '100' } });
  try {
    const shells = blocks.filter((b) => b.lang === 'sh');
    assert.equal(shells.length, 5, 'the page has its walk-through');
    const atPort = (s: string) => s.replaceAll('8787', port);
    const outputs = runBashSession(shells, { cwd: dir, daemon: d, edit: atPort, killJobs: true });
    const checked = checkShownOutputs(blocks, shells, outputs, { norm: normalize, edit: atPort });
    assert.equal(checked, 5, 'every command with an output block was checked');
    // What the page says of the receiver's log: three answers delivered, one refused.
    const log = readFileSync(join(dir, 'received.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      log.map((r) => `${r.path} ${r.status}`),
      ['/answers 200', '/broken 400', '/broken 200'],
    );
  } finally {
    await d.kill();
    await d.cleanup();
  }
});
