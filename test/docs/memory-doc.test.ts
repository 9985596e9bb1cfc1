// docs/memory.md, followed as written: its routes file, script and policy file are written where
// the page names them, the daemon starts with the page's `serve` flags, every `kheish-daemon` line
// of its shell blocks runs in order, and the output block after a command holds lines it printed.
// Then what the page says happened: the address was never stored, the context ranked the
// certificate run first, and the new policy left two records.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { http } from '../helpers/daemon.ts';
import { queryState } from '../helpers/state-query.ts';
import { cliLine, readPage, runShellBlocks, startPageDaemon } from './walkthrough.ts';

const page = readPage('memory.md');

test('docs/memory.md: the worked example runs as written', async () => {
  const { base, serve, d } = await startPageDaemon(page, {
    prefix: 'kheish-memory-doc-',
    files: ['routes.toml', 'script.json', 'fewer.json'],
  });
  try {
    const printedBy: Record<string, string> = {};
    const checked = await runShellBlocks(page.blocks, {
      skip: serve,
      run: (line) => {
        printedBy[line] = cliLine(d, base, line);
        return printedBy[line];
      },
    });
    assert.equal(checked, 3, 'every command with an output block was checked');

    // The certificate run is listed first by `memory context --query certificates`.
    const context = printedBy["kheish-daemon memory context ops --query 'certificates'"]!;
    const order = [...context.matchAll(/Request: (\w+)/g)].map((m) => m[1]);
    assert.deepEqual(order, ['Rotate', 'Tune', 'Plan']);
    const search = printedBy["kheish-daemon memory search ops --query 'kubernetes upgrade'"]!;
    assert.match(search, /recovered_run .* Request: Plan the kubernetes node upgrade/);
    const rows = await queryState(d, "select summary from run_memories where session_id = 'ops'");
    assert.equal(rows.length, 2, 'the new policy kept two records');
    for (const r of rows) assert.doesNotMatch(String(r.summary), /ops@example\.com/);
    const policy = (await http(d.url, 'GET', '/v1/runtime/run-memory-policy')).body;
    assert.equal(policy.max_tracked_per_session, 2);
  } finally {
    await d.kill();
    await d.cleanup();
  }
});
