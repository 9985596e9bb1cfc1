// docs/connectors-external.md, followed as written: the page's `sidecar.py` is written where the
// page names it, a daemon starts (built-in demo route, a master key for the shared token), the
// shell blocks run in order in one bash session (with `kheish-daemon` on PATH and the sidecar on a
// free port instead of 8787), and the block after a command holds what it printed: text lines
// appear in the output (whitespace normalized), JSON equals it (run ids normalized).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { BIN, http, startDaemon, tempDir } from '../helpers/daemon.ts';
import { freePort } from '../helpers/external-sidecar.ts';
import { checkShownOutputs, runBashSession } from './bash-session.ts';
import { fencedBlocks } from './markdown.ts';

const DOC = resolve(import.meta.dirname, '../../docs/connectors-external.md');
const blocks = fencedBlocks('docs/connectors-external.md', readFileSync(DOC, 'utf8'));
const KEY = spawnSync(BIN, ['secrets', 'generate'], { encoding: 'utf8' }).stdout.trim();

const normalize = (l: string) =>
  l
    .replace(/run-[0-9a-z]{26}/g, 'run-ID')
    .replace(/\s+/g, ' ')
    .trim();

test('docs/connectors-external.md: the child-process sidecar walkthrough runs as written', async () => {
  const dir = realpathSync(tempDir('kheish-external-doc-'));
  const port = String(await freePort());
  writeFileSync(join(dir, 'sidecar.py'), `${blocks.find((b) => b.lang === 'python')!.body}\n`);
  const d = await startDaemon({ env: { KHEISH_AUTH_STORE_MASTER_KEY: KEY } });
  try {
    const shells = blocks.filter((b) => b.lang === 'sh');
    const outputs = runBashSession(shells, {
      cwd: dir,
      daemon: d,
      edit: (s) => s.replaceAll('8787', port),
      onFailure: () => d.logs().slice(-3000),
    });
    const checked = checkShownOutputs(blocks, shells, outputs, {
      norm: normalize,
      normJson: true,
      anywhere: true,
    });
    assert.equal(checked, 4, 'every command with an output block was checked');

    // What the page says beyond the printed lines: the shared token is write-only, the child's
    // environment has the test switches, and the run came from the external connector.
    const view = (await http(d.url, 'GET', '/v1/runtime/connectors/external/side')).body;
    assert.ok(!JSON.stringify(view).includes('change-me-side-token'));
    assert.equal(view.shared_token.configured, true);
    const status = (await http(d.url, 'GET', '/v1/runtime/external-connectors')).body;
    assert.equal(status.children[0].state, 'ready');
    assert.ok(!d.logs().includes('change-me-side-token'), 'the shared token is not logged');
  } finally {
    await d.stop();
    await d.cleanup();
  }
});
