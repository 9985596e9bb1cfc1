// docs/learning-skills.md, followed as written: its routes file and script are written where the
// page names them, every `kheish-daemon` line of its shell blocks runs in order against the daemon
// (<learning_id> is a procedure learning the test publishes; <verify_run_id> and <canary_run_id>
// are the runs the `sessions input` lines before printed), and each output block holds lines the
// command before it printed. The daemon is in-process with the learnings stand-in
// (test/helpers/learnings-stand-in.ts) until the learnings feature is merged; the page's `serve`
// line is checked for its flags only.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { BIN, http } from '../helpers/daemon.ts';
import { type Rig, startRig } from '../helpers/learning-skills-rig.ts';
import { fencedBlocks, fileNamedBefore, cliArgs as words } from './markdown.ts';

const run = promisify(execFile);
const DOC = resolve(import.meta.dirname, '../../docs/learning-skills.md');
const text = readFileSync(DOC, 'utf8');
const lines = text.split('\n');
const blocks = fencedBlocks('docs/learning-skills.md', text);
let rig: Rig | undefined;
after(async () => rig?.close());

test('docs/learning-skills.md: the worked example runs as written', async () => {
  const files = blocks
    .filter((b) => b.lang === 'toml' || b.lang === 'json')
    .map((b) => ({ path: fileNamedBefore(lines, b.line, /^`([^`]+)`:/), body: b.body }));
  assert.deepEqual(
    files.map((f) => f.path),
    ['routes.toml', 'script.json'],
  );
  const routes = files[0]!.body;
  assert.match(routes, /script_file = "script.json"/);
  const serve = blocks.find((b) => b.lang === 'sh' && b.body.startsWith('kheish-daemon serve'))!;
  assert.equal(serve.body.trim(), 'kheish-daemon serve --routes-file routes.toml');
  rig = await startRig(JSON.parse(files[1]!.body));
  rig.learnings.seed({ learning_id: 'lrn-release', content: 'Walk the release checklist.' });
  const ids: Record<string, string> = { learning_id: 'lrn-release' };
  const runIds: string[] = [];
  const fill = (s: string) => s.replace(/<(\w+)>/g, (m, k: string) => ids[k] ?? m);
  // Asynchronous: the daemon answering the CLI lives in this process.
  const cli = async (line: string) => {
    const out = await run(BIN, words(fill(line)), {
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, KHEISH_DAEMON_URL: rig!.url },
    }).catch((err: { code?: number; stdout?: string; stderr?: string }) => {
      assert.fail(`${line}\nexit ${err.code}\n${err.stdout}\n${err.stderr}`);
    });
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
  const dev = (await http(rig.url, 'GET', '/v1/runs?session_id=dev')).body as any[];
  assert.equal(dev.length, 1);
  assert.equal(dev[0].status, 'completed');
  const rec = (await http(rig.url, 'GET', '/v1/learning-skills/release:check')).body;
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
