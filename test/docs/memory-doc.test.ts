// docs/memory.md, followed as written: its routes file, script and policy file are written where
// the page names them, the daemon starts with the page's `serve` flags, every `kheish-daemon` line
// of its shell blocks runs in order, and the output block after a command holds lines it printed.
// Then what the page says happened: the address was never stored, the context ranked the
// certificate run first, and the new policy left two records.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { BIN, http, startDaemon, tempDir } from '../helpers/daemon.ts';
import { queryState } from '../helpers/state-query.ts';
import { fencedBlocks, fileNamedBefore, cliArgs as words } from './markdown.ts';

const DOC = resolve(import.meta.dirname, '../../docs/memory.md');
const text = readFileSync(DOC, 'utf8');
const lines = text.split('\n');
const blocks = fencedBlocks('docs/memory.md', text);

test('docs/memory.md: the worked example runs as written', async () => {
  const base = realpathSync(tempDir('kheish-memory-doc-'));
  const files = blocks
    .filter((b) => b.lang === 'toml' || b.lang === 'json')
    .map((b) => ({ path: fileNamedBefore(lines, b.line, /^`([^`]+)`:$/), body: b.body }))
    .filter((f) => f.path !== undefined);
  assert.deepEqual(
    files.map((f) => f.path),
    ['routes.toml', 'script.json', 'fewer.json'],
  );
  for (const f of files) writeFileSync(join(base, f.path!), `${f.body}\n`);
  const serve = blocks.find((b) => b.lang === 'sh' && b.body.startsWith('kheish-daemon serve'))!;
  const flags = words(serve.body.trim())
    .slice(1)
    .map((w) => (w.startsWith('--') ? w : join(base, w)));
  const d = await startDaemon({ args: flags });
  try {
    const cli = (line: string) => {
      const out = spawnSync(BIN, words(line), {
        cwd: base,
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, KHEISH_DAEMON_URL: d.url },
      });
      assert.equal(out.status, 0, `${line}\n${out.stdout}\n${out.stderr}`);
      return out.stdout;
    };
    let checked = 0;
    const printedBy: Record<string, string> = {};
    blocks.forEach((b, i) => {
      if (b.lang !== 'sh' || b === serve) return;
      let last = '';
      for (const line of b.body.trim().split('\n')) {
        last = cli(line);
        printedBy[line] = last;
      }
      const shown = blocks[i + 1];
      if (shown?.lang !== 'text') return;
      const flat = (l: string) => l.replace(/\s+/g, ' ').trim();
      const printed = last.trimEnd().split('\n').map(flat);
      for (const want of shown.body.trimEnd().split('\n'))
        assert.ok(printed.includes(flat(want)), `${b.where}: ${JSON.stringify(want)} in\n${last}`);
      checked++;
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
