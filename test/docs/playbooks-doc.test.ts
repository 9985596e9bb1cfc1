// docs/playbooks.md, followed as written: its routes file, script, manifest and request are
// written where the page names them, the daemon starts with the page's `serve` flags, every
// `kheish-daemon` line of the worked example's shell blocks runs in order (<digest> and <run_id>
// are what the commands before printed), and each output block holds lines the command before it
// printed. Then what the page says happened: the Flow succeeded once the manual review was appended.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { BIN, http, startDaemon, tempDir } from '../helpers/daemon.ts';
import { fencedBlocks, fileNamedBefore, cliArgs as words } from './markdown.ts';

const DOC = resolve(import.meta.dirname, '../../docs/playbooks.md');
const text = readFileSync(DOC, 'utf8');
const lines = text.split('\n');
// The worked example is section 1; later sections show commands without running them here.
const exampleEnd = lines.findIndex((l) => l.startsWith('## 2.'));
const all = fencedBlocks('docs/playbooks.md', text);
const blocks = all.filter((b) => b.line < exampleEnd);
// Section 6 continues the example: its report file is written and its command runs after it.
const verifyStart = lines.findIndex((l) => l.startsWith('## 6.'));
const verifyEnd = lines.findIndex((l) => l.startsWith('## 7.'));
const verifyBlocks = all.filter((b) => b.line > verifyStart && b.line < verifyEnd);

test('docs/playbooks.md: the worked example runs as written; the flow waits for the manual review, then succeeds', async () => {
  const base = realpathSync(tempDir('kheish-playbooks-doc-'));
  const files = blocks
    .filter((b) => b.lang === 'toml' || b.lang === 'json')
    .map((b) => ({ path: fileNamedBefore(lines, b.line, /^`([^`]+)`[^`]*:$/), body: b.body }));
  assert.deepEqual(
    files.map((f) => f.path),
    ['routes.toml', 'script.json', 'manifest.json', 'request.json'],
  );
  for (const f of files) writeFileSync(join(base, f.path!), `${f.body}\n`);
  const serve = blocks.find((b) => b.lang === 'sh' && b.body.startsWith('kheish-daemon serve'))!;
  const flags = words(serve.body.trim())
    .slice(1)
    .map((w) => (w.startsWith('--') ? w : join(base, w)));
  const d = await startDaemon({ args: flags });
  const ids: Record<string, string> = {};
  const fill = (s: string) => s.replace(/<(digest|run_id)>/g, (_, k: string) => ids[k] ?? `<${k}>`);
  try {
    const cli = (line: string) => {
      const out = spawnSync(BIN, words(fill(line)), {
        cwd: base,
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, KHEISH_DAEMON_URL: d.url },
      });
      assert.equal(out.status, 0, `${line}\n${out.stdout}\n${out.stderr}`);
      if (line.includes('playbooks create')) ids.digest = /digest ([0-9a-f]{64})/.exec(out.stdout)![1]!;
      if (line.includes('flows start')) ids.run_id = /run-[0-9a-z]+/.exec(out.stdout)![0];
      return out.stdout;
    };
    let checked = 0;
    const runBlocks = (list: typeof blocks) =>
      list.forEach((b, i) => {
        if (b.lang !== 'sh' || b === serve) return;
        let last = '';
        for (const line of b.body.trim().split('\n')) last = cli(line);
        const shown = list[i + 1];
        if (shown?.lang !== 'text') return;
        const flat = (l: string) => l.replace(/\s+/g, ' ').trim();
        const printed = last.trimEnd().split('\n').map(flat);
        for (const want of fill(shown.body).trimEnd().split('\n'))
          assert.ok(printed.includes(flat(want)), `${b.where}: ${JSON.stringify(want)} in\n${last}`);
        checked++;
      });
    runBlocks(blocks);
    assert.equal(checked, 3, 'every command with an output block was checked');

    const flow = (await http(d.url, 'GET', '/v1/flows/review-1')).body;
    assert.equal(flow.status, 'succeeded');
    assert.equal(flow.run.status, 'completed');
    assert.equal(flow.run_id, ids.run_id);
    assert.equal(
      (await http(d.url, 'GET', `/v1/runs/${ids.run_id}`)).body.input_metadata.kheish_flow.flow_id,
      'review-1',
    );

    // Section 6: the report is written where the page names it, then verified.
    const report = verifyBlocks.find((b) => b.lang === 'markdown')!;
    const reportPath = fileNamedBefore(lines, report.line, /`([^`]+)`:$/);
    assert.equal(reportPath, 'report.md');
    writeFileSync(join(base, reportPath!), `${report.body}\n`);
    runBlocks(verifyBlocks);
    assert.equal(checked, 4, 'the verifier command and its output were checked');
    const verified = (await http(d.url, 'GET', '/v1/flows/review-1')).body;
    assert.ok(
      verified.evidence_refs.some((e: any) => e.kind === 'product_view' && e.id === 'report.md'),
      JSON.stringify(verified.evidence_refs),
    );
  } finally {
    await d.kill();
    await d.cleanup();
  }
});
