// docs/learning-skills.md, followed as written: its routes file and script are written where the
// page names them, the daemon starts with the page's `serve` flags, every `kheish-daemon` line of
// its shell blocks runs in order (<candidate_id>, <learning_id>, <verify_run_id> and
// <canary_run_id> are the ids the lines before printed), and each output block holds lines the
// command before it printed. Then what the page says happened.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { BIN, http, startDaemon, type TestDaemon, tempDir } from '../helpers/daemon.ts';
import { fencedBlocks, fileNamedBefore, cliArgs as words } from './markdown.ts';

const run = promisify(execFile);
const DOC = resolve(import.meta.dirname, '../../docs/learning-skills.md');
const text = readFileSync(DOC, 'utf8');
const lines = text.split('\n');
const blocks = fencedBlocks('docs/learning-skills.md', text);
let d: TestDaemon | undefined;
after(async () => {
  await d?.kill();
  await d?.cleanup();
});

test('docs/learning-skills.md: the worked example runs as written', async () => {
  const files = blocks
    .filter((b) => b.lang === 'toml' || b.lang === 'json')
    .map((b) => ({ path: fileNamedBefore(lines, b.line, /^`([^`]+)`:/), body: b.body }));
  assert.deepEqual(
    files.map((f) => f.path),
    ['routes.toml', 'script.json'],
  );
  const base = tempDir('kheish-lskills-doc-');
  for (const f of files) writeFileSync(join(base, f.path!), `${f.body}\n`);
  const serve = blocks.find((b) => b.lang === 'sh' && b.body.startsWith('kheish-daemon serve'))!;
  const flags = words(serve.body.trim())
    .slice(1)
    .map((w) => (w.startsWith('--') ? w : join(base, w)));
  // The page's daemon runs in the reader's directory: its workspace (where the skill's worktrees
  // go) is that directory, here the test's.
  d = await startDaemon({
    args: [...flags, '--workspace-root', base],
    env: { HOME: tempDir('kheish-lskills-doc-home-') },
  });
  const url = d.url;
  const ids: Record<string, string> = {};
  const runIds: string[] = [];
  const fill = (s: string) => s.replace(/<(\w+)>/g, (m, k: string) => ids[k] ?? m);
  const cli = async (line: string) => {
    const out = await run(BIN, words(fill(line)), {
      encoding: 'utf8',
      timeout: 30_000,
      cwd: base,
      env: { ...process.env, KHEISH_DAEMON_URL: url },
    }).catch((err: { code?: number; stdout?: string; stderr?: string }) => {
      assert.fail(`${line}\nexit ${err.code}\n${err.stdout}\n${err.stderr}`);
    });
    const id = (re: RegExp) => re.exec(out.stdout)?.[0];
    if (line.includes('candidates create')) ids.candidate_id = id(/candidate-[0-9a-z]+/)!;
    if (line.includes('candidates publish')) ids.learning_id = id(/learning-[0-9a-z]+/)!;
    if (line.includes('sessions input')) {
      const id = /\brun[-_][0-9A-Za-z_-]+/.exec(out.stdout)?.[0];
      assert.ok(id, `a run id in\n${out.stdout}`);
      runIds.push(id);
      ids.verify_run_id = runIds[0]!;
      if (runIds[1]) ids.canary_run_id = runIds[1];
    }
    return out.stdout;
  };
  let checked = 0;
  for (const [i, b] of blocks.entries()) {
    if (b.lang !== 'sh' || b === serve) continue;
    let last = '';
    for (const line of b.body.trim().split('\n')) last = await cli(line);
    const shown = blocks[i + 1];
    if (shown?.lang !== 'text') continue;
    const flat = (l: string) => l.replace(/\s+/g, ' ').trim();
    const printed = last.trimEnd().split('\n').map(flat);
    for (const want of shown.body.trimEnd().split('\n'))
      assert.ok(
        printed.some((l) => l.startsWith(flat(want))),
        `${b.where}: ${JSON.stringify(want)} in\n${last}`,
      );
    checked++;
  }
  assert.equal(checked, 5, 'every command with an output block was checked');

  // What the page says happened: the agent's use_skill ran the child, and the skill is active again.
  const dev = (await http(url, 'GET', '/v1/runs?session_id=dev')).body as any[];
  assert.equal(dev.length, 1);
  assert.equal(dev[0].status, 'completed');
  const rec = (await http(url, 'GET', '/v1/learning-skills/release:check')).body;
  assert.equal(rec.status, 'active');
  assert.deepEqual(
    rec.lifecycle_events.map((e: any) => e.action),
    [
      'promoted',
      'rollout_result',
      'status_changed',
      'rollout_result',
      'status_changed',
      'revoked',
      'rolled_back',
    ],
  );
  assert.equal(rec.definition.description, 'Walk the release checklist');
});
