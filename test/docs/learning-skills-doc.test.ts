// docs/learning-skills.md, followed as written: its routes file and script are written where the
// page names them, the daemon starts with the page's `serve` flags, every `kheish-daemon` line of
// its shell blocks runs in order (<candidate_id>, <learning_id>, <verify_run_id> and
// <canary_run_id> are the ids the lines before printed), and each output block holds lines the
// command before it printed. Then what the page says happened.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { http, startDaemon, type TestDaemon, tempDir } from '../helpers/daemon.ts';
import { assertShown, cliLineAsync, filler, pageWorkspace, readPage, runShellBlocks } from './walkthrough.ts';

const page = readPage('learning-skills.md');
let d: TestDaemon | undefined;
after(async () => {
  await d?.kill();
  await d?.cleanup();
});

test('docs/learning-skills.md: the worked example runs as written', async () => {
  const { base, serve, flags } = pageWorkspace(page, {
    prefix: 'kheish-lskills-doc-',
    named: /^`([^`]+)`:/,
    files: ['routes.toml', 'script.json'],
  });
  // The page's daemon runs in the reader's directory: its workspace (where the skill's worktrees
  // go) is that directory, here the test's.
  d = await startDaemon({
    args: [...flags, '--workspace-root', base],
    env: { HOME: tempDir('kheish-lskills-doc-home-') },
  });
  const url = d.url;
  const ids: Record<string, string> = {};
  const runIds: string[] = [];
  const fill = filler(ids);
  const cli = async (line: string) => {
    const stdout = await cliLineAsync({ url }, base, fill(line));
    const id = (re: RegExp) => re.exec(stdout)?.[0];
    if (line.includes('candidates create')) ids.candidate_id = id(/candidate-[0-9a-z]+/)!;
    if (line.includes('candidates publish')) ids.learning_id = id(/learning-[0-9a-z]+/)!;
    if (line.includes('sessions input')) {
      const id = /\brun[-_][0-9A-Za-z_-]+/.exec(stdout)?.[0];
      assert.ok(id, `a run id in\n${stdout}`);
      runIds.push(id);
      ids.verify_run_id = runIds[0]!;
      if (runIds[1]) ids.canary_run_id = runIds[1];
    }
    return stdout;
  };
  const checked = await runShellBlocks(page.blocks, {
    skip: serve,
    run: cli,
    check: (last, shown, b) => assertShown(last, shown, b.where, { prefix: true }),
  });
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
