// `--file` and `--asset` on `runs submit` and `sessions input` (concepts §4.6): the CLI sends them
// as legacy attachments after the message; the daemon stores the file and the run references both.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BIN, http, startDaemon, type TestDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';

let d: TestDaemon;
before(async () => {
  d = await startDaemon({ script: { default: { turns: [{ text: 'ok' }] } } });
});
after(async () => {
  await d.stop();
  await d.cleanup();
});

const cli = (cwd: string, args: string[]) =>
  spawnSync(BIN, args, {
    cwd,
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, KHEISH_DAEMON_URL: d.url },
  });

test('sessions input --file A --asset B: both attachments, in that order, after the message', async () => {
  const dir = realpathSync(tempDir('kheish-cli-files-'));
  writeFileSync(join(dir, 'table.csv'), 'a,b\n1,2\n');
  const stored = await http(d.url, 'POST', '/v1/assets', {
    file_name: 'stored.txt',
    media_type: 'text/plain',
    content_base64: Buffer.from('stored text').toString('base64'),
  });
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'cli-files' });
  const out = cli(dir, [
    'sessions',
    'input',
    'cli-files',
    'compare these',
    '--file',
    'table.csv',
    '--asset',
    stored.body.asset_id,
    '--wait',
  ]);
  assert.equal(out.status, 0, out.stderr);
  const [run] = (await http(d.url, 'GET', '/v1/runs?session_id=cli-files')).body;
  await waitForRun(d.url, run.run_id);
  assert.equal(run.input_attachments.length, 2);
  const [file, asset] = run.input_attachments;
  assert.equal(file.type, 'asset_reference');
  const view = (await http(d.url, 'GET', `/v1/assets/${file.asset_id}`)).body;
  assert.deepEqual([view.file_name, view.media_type], ['table.csv', 'text/csv']);
  assert.deepEqual(asset, { type: 'asset_reference', asset_id: stored.body.asset_id });
});

test('runs submit with only a file sends an empty message; a missing file is a usage error (exit 2)', async () => {
  const dir = realpathSync(tempDir('kheish-cli-files-'));
  writeFileSync(join(dir, 'only.md'), '# only a file\n');
  const ok = cli(dir, ['runs', 'submit', 'cli-only', '--file', 'only.md', '--wait']);
  assert.equal(ok.status, 0, ok.stderr);
  const [run] = (await http(d.url, 'GET', '/v1/runs?session_id=cli-only')).body;
  assert.equal(run.input_attachments.length, 1);
  const missing = cli(dir, ['runs', 'submit', 'cli-only', 'x', '--file', 'nope.md']);
  assert.equal(missing.status, 2, missing.stderr);
  assert.match(missing.stderr, /cannot read --file nope\.md \(ENOENT\)/);
});
