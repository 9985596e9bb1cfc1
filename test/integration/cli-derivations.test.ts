// The derivations CLI against a live daemon (api-core §8.5): create (asset, session input),
// get, list, and the usage errors of the subject flags (exit 2, nothing sent).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { BIN, http, startDaemon, type TestDaemon, waitForRun } from '../helpers/daemon.ts';
import { uploadAsset } from '../helpers/derivations.ts';

let d: TestDaemon;
before(async () => {
  d = await startDaemon({ script: { default: { turns: [{ text: 'ok' }] } } });
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
});

const cli = (args: string[]) => {
  const out = spawnSync(BIN, args, {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, KHEISH_DAEMON_URL: d.url },
  });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
};

test('derivations CLI: create, get, list; subject flag mistakes are usage errors', async () => {
  const asset = await uploadAsset(d.url, 'cli.txt', 'text/plain', 'from the cli\n');
  const made = cli([
    '--output',
    'json',
    'derivations',
    'create',
    '--profile',
    'canonical_text',
    '--asset',
    asset.asset_id,
  ]);
  assert.equal(made.status, 0, made.stderr);
  const view = JSON.parse(made.stdout);
  assert.deepEqual([view.cache_status, view.result_asset_id], ['miss', asset.asset_id]);

  const shown = cli(['derivation', 'get', view.derivation_id]);
  assert.equal(shown.status, 0, shown.stderr);
  assert.match(shown.stdout, new RegExp(`derivation:\\s+${view.derivation_id}`));
  assert.match(shown.stdout, /result:\s+asset-\S+ \(the subject itself\)/);

  const listed = cli(['--output', 'json', 'derivations', 'list', '--query', asset.asset_id, '--page']);
  assert.equal(listed.status, 0, listed.stderr);
  assert.deepEqual(
    JSON.parse(listed.stdout).items.map((x: any) => x.derivation_id),
    [view.derivation_id],
  );
  const table = cli(['derivations', 'list']);
  assert.match(table.stdout.split('\n')[0]!, /^DERIVATION\s+PROFILE\s+STATUS\s+RESULT\s+SUBJECT$/);

  await http(d.url, 'POST', '/v1/sessions', { session_id: 'cli-deriv' });
  const run = await http(d.url, 'POST', '/v1/sessions/cli-deriv/runs', { content: 'hello' });
  await waitForRun(d.url, run.body.run_id);
  const textItem = cli([
    'derivations',
    'create',
    '--profile',
    'canonical_text',
    '--session',
    'cli-deriv',
    '--offset',
    '0',
  ]);
  assert.notEqual(textItem.status, 0);
  assert.match(textItem.stderr, /unsupported_derivation|not an asset/);

  const before = (await http(d.url, 'GET', '/v1/derivations')).body.length;
  for (const args of [
    ['derivations', 'create', '--profile', 'canonical_text'],
    ['derivations', 'create', '--profile', 'canonical_text', '--asset', 'a', '--observation', 'o'],
    ['derivations', 'create', '--profile', 'canonical_text', '--session', 's'],
    ['derivations', 'create', '--profile', 'canonical_text', '--session', 's', '--offset', '-1'],
    ['derivations', 'create', '--profile', 'summary', '--asset', 'a'],
    ['derivations', 'create', '--profile', 'canonical_text', '--asset', 'a', '--timestamps', 'line'],
  ]) {
    const out = cli(args);
    assert.equal(out.status, 2, `${args.join(' ')}: ${out.status} ${out.stderr}`);
  }
  assert.equal((await http(d.url, 'GET', '/v1/derivations')).body.length, before);
});
