// docs/playbooks.md, followed as written: its routes file, script, manifest and request are
// written where the page names them, the daemon starts with the page's `serve` flags, every
// `kheish-daemon` line of the worked example's shell blocks runs in order (<digest> and <run_id>
// are what the commands before printed), and each output block holds lines the command before it
// printed. Then what the page says happened: the Flow succeeded once the manual review was appended.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { http } from '../helpers/daemon.ts';
import { fileNamedBefore } from './markdown.ts';
import { cliLine, filler, readPage, runShellBlocks, startPageDaemon } from './walkthrough.ts';

const page = readPage('playbooks.md');
const { lines } = page;
const exampleEnd = lines.findIndex((l) => l.startsWith('## 2.'));
const blocks = page.blocks.filter((b) => b.line < exampleEnd);
const verifyStart = lines.findIndex((l) => l.startsWith('## 6.'));
const verifyEnd = lines.findIndex((l) => l.startsWith('## 7.'));
const verifyBlocks = page.blocks.filter((b) => b.line > verifyStart && b.line < verifyEnd);

test('docs/playbooks.md: the worked example runs as written; the flow waits for the manual review, then succeeds', async () => {
  const { base, serve, d } = await startPageDaemon(page, {
    prefix: 'kheish-playbooks-doc-',
    blocks,
    named: /^`([^`]+)`[^`]*:$/,
    files: ['routes.toml', 'script.json', 'manifest.json', 'request.json'],
  });
  const ids: Record<string, string> = {};
  const fill = filler(ids, /digest|run_id/);
  try {
    const runBlocks = (list: typeof blocks) =>
      runShellBlocks(list, {
        skip: serve,
        fill,
        run: (line) => {
          const out = cliLine(d, base, fill(line));
          if (line.includes('playbooks create')) ids.digest = /digest ([0-9a-f]{64})/.exec(out)![1]!;
          if (line.includes('flows start')) ids.run_id = /run-[0-9a-z]+/.exec(out)![0];
          return out;
        },
      });
    let checked = await runBlocks(blocks);
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
    checked += await runBlocks(verifyBlocks);
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
