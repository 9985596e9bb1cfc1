// docs/deliveries.md, followed as written: `receiver.py` is written from the page's Python block,
// the shell blocks run in order in one bash session (so `$DEAD` carries over) against a real
// daemon with `kheish-daemon` on PATH, the receiver listening on a free port instead of 8787. The
// block after a command holds what it printed: a text block line by line (times normalized), a
// JSON block as a JSON value.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { BIN, startDaemon, tempDir } from '../helpers/daemon.ts';
import { fencedBlocks } from './markdown.ts';

const DOC = resolve(import.meta.dirname, '../../docs/deliveries.md');
const blocks = fencedBlocks('docs/deliveries.md', readFileSync(DOC, 'utf8'));

const normalize = (l: string) =>
  l
    .replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ/g, 'TIME')
    .replace(/\s+/g, ' ')
    .trim();

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

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
    const script = [
      'set -euo pipefail',
      "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT",
      ...shells.flatMap((b, i) => [b.body.replaceAll('8787', port), `echo "@@block ${i}@@"`]),
    ].join('\n');
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
        for (const want of shown.body.replaceAll('8787', port).trimEnd().split('\n'))
          assert.ok(lines.includes(normalize(want)), `${b.where}: ${JSON.stringify(want)} in\n${printed}`);
        checked++;
      } else if (shown?.lang === 'json') {
        assert.deepEqual(JSON.parse(printed), JSON.parse(shown.body), b.where);
        checked++;
      }
    });
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
