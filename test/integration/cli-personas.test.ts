// The personas CLI against a live daemon (ops-runtime §2.11 and the sessions commands of §2.10):
// create from a string and standard input, import from Markdown (heading, file stem, extension
// rule), get, update, list, delete; sessions set-persona / clear-persona; and the SDK resource.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { itemsOf, Kheish } from '../../src/sdk/index.ts';
import { BIN, startDaemon, type TestDaemon, tempDir } from '../helpers/daemon.ts';

let d: TestDaemon;
const dir = tempDir('kheish-cli-personas-');

before(async () => {
  d = await startDaemon({ script: { default: { turns: [{ text: 'ok' }] } } });
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
});

function cli(args: string[], input?: string) {
  const out = spawnSync(BIN, args, {
    cwd: dir,
    input,
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, KHEISH_DAEMON_URL: d.url },
  });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}
const json = (args: string[], input?: string) => {
  const out = cli(['--output', 'json', ...args], input);
  assert.equal(out.status, 0, `${args.join(' ')}: ${out.stderr}`);
  return JSON.parse(out.stdout);
};

test('personas CLI: create (--soul, --stdin), import (.md heading, file stem, --display-name; .txt refused), get, update, list, delete', () => {
  const made = json([
    'personas',
    'create',
    'Planner',
    '--persona-id',
    'planner',
    '--soul',
    'Plan before acting.',
    '--metadata-json',
    '{"team":"ops"}',
    '--capability-scope-json',
    '{"skill_deny":["x"]}',
  ]);
  assert.equal(made.version, 1);
  assert.deepEqual(made.metadata, { team: 'ops' });
  assert.deepEqual(made.capability_scope, { skill_deny: ['x'] });
  assert.equal(
    json(['personas', 'create', 'Piped', '--persona-id', 'piped', '--stdin'], 'from stdin\n').soul,
    'from stdin\n',
  );

  writeFileSync(join(dir, 'support.md'), 'Intro line\n\n## Support agent\n\nBe kind.\n');
  writeFileSync(join(dir, 'plain-notes.markdown'), 'No heading here.\n');
  writeFileSync(join(dir, 'notes.txt'), '# Not markdown\n');
  const support = json(['personas', 'import', 'support.md', '--persona-id', 'support']);
  assert.equal(support.display_name, 'Support agent', 'the first heading');
  assert.equal(support.soul, 'Intro line\n\n## Support agent\n\nBe kind.\n', 'the whole file');
  assert.equal(
    json(['personas', 'import', 'plain-notes.markdown', '--persona-id', 'plain']).display_name,
    'plain-notes',
  );
  assert.equal(
    json(['personas', 'import', 'support.md', '--persona-id', 'named', '--display-name', 'Named'])
      .display_name,
    'Named',
  );
  const txt = cli(['personas', 'import', 'notes.txt']);
  assert.notEqual(txt.status, 0);
  assert.match(txt.stderr, /\.md or \.markdown/);

  const shown = cli(['personas', 'get', 'planner']);
  assert.equal(shown.status, 0, shown.stderr);
  assert.match(shown.stdout, /persona: +planner/);
  assert.match(shown.stdout, /Plan before acting\./);

  writeFileSync(join(dir, 'v2.md'), 'Plan, then act.');
  const updated = json([
    'personas',
    'update',
    'planner',
    '--soul-file',
    'v2.md',
    '--display-name',
    'Planner 2',
  ]);
  assert.equal(updated.version, 2);
  assert.equal(updated.soul, 'Plan, then act.');
  assert.equal(cli(['personas', 'update', 'planner']).status, 2, 'nothing to update is a usage error');

  const listed = cli(['personas', 'list', '--query', 'PLA']);
  assert.match(listed.stdout, /^PERSONA +VERSION +UPDATED +NAME/);
  assert.match(listed.stdout, /planner +2 /);
  assert.match(listed.stdout, /plain +1 /);
  assert.doesNotMatch(listed.stdout, /support/);
  assert.equal(json(['personas', 'list', '--page', '--limit', '1']).pagination.order, 'persona_id_asc');

  assert.deepEqual(json(['personas', 'delete', 'piped']), { deleted: true });
  const gone = cli(['personas', 'get', 'piped']);
  assert.notEqual(gone.status, 0);
  assert.match(gone.stderr, /persona_not_found|was not found/);
});

test('sessions set-persona / clear-persona / list --persona-id, and client.personas in the SDK', async () => {
  const k = new Kheish({ baseUrl: d.url });
  await k.personas.create({ persona_id: 'sdk-p', display_name: 'SDK', soul: 'from the SDK' });
  json(['sessions', 'create', 'cli-s']);
  const bound = cli(['sessions', 'set-persona', 'cli-s', 'sdk-p']);
  assert.equal(bound.status, 0, bound.stderr);
  assert.match(bound.stdout, /persona: +sdk-p v1/);
  assert.deepEqual(
    itemsOf(json(['sessions', 'list', '--persona-id', 'sdk-p'])).map((s: any) => s.session_id),
    ['cli-s'],
  );
  await k.personas.update('sdk-p', { soul: 'changed' });
  assert.equal(((await k.sessions.get('cli-s')).persona as any)?.persona_version, 1);
  assert.equal((await k.personas.get('sdk-p')).version, 2);
  const cleared = json(['sessions', 'clear-persona', 'cli-s']);
  assert.equal(cleared.persona, undefined);
  const viaSdk = await k.personas.bind('cli-s', 'sdk-p');
  assert.equal((viaSdk.persona as any).persona_version, 2);
  assert.equal((await k.personas.clear('cli-s')).persona, undefined);
  assert.deepEqual(
    itemsOf(await k.personas.list({ query: 'sdk' })).map((p) => p.persona_id),
    ['sdk-p'],
  );
});
