// The learnings CLI against a live daemon (issue 19): candidates create/show/list/reject/publish,
// learnings show/list/supersede/revoke/revoke-matching, policy set/get with a stale revision, the
// exit codes of refused requests, and the SDK resource it is built on.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Kheish } from '../../src/sdk/index.ts';
import { cliJson, runCli } from '../helpers/cli.ts';
import { startDaemon, type TestDaemon, tempDir } from '../helpers/daemon.ts';

let d: TestDaemon;
const dir = tempDir('kheish-cli-learnings-');

before(async () => {
  d = await startDaemon({ script: { default: { turns: [{ text: 'ok' }] } } });
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
});

const cli = (args: string[]) => runCli(d, args, { cwd: dir });
const json = (args: string[]) => cliJson(d, args, { cwd: dir });
const workspaceFact = (content: string) => [
  'learnings',
  'candidates',
  'create',
  '--scope',
  'workspace',
  '--kind',
  'fact',
  '--content',
  content,
];

test('learnings CLI: candidates, learnings, policy, and refused requests exit with their code', async () => {
  json(['sessions', 'create', 'cli-s']);
  const c = json([
    'learnings',
    'candidates',
    'create',
    '--scope',
    'session:cli-s',
    '--kind',
    'preference',
    '--content',
    'Reports in French',
    '--confidence',
    '75',
    '--source-run',
    'run-x',
  ]);
  assert.deepEqual(c.scope, { kind: 'session', id: 'cli-s' });
  assert.equal(c.confidence, 75);
  assert.deepEqual(c.source, { run_id: 'run-x' });
  assert.equal(json(['learnings', 'candidates', 'show', c.candidate_id]).candidate_id, c.candidate_id);
  const listed = json(['learnings', 'candidates', 'list', '--scope', 'session:cli-s', '--state', 'pending']);
  assert.deepEqual(
    listed.map((x: any) => x.candidate_id),
    [c.candidate_id],
  );

  const r = json(workspaceFact('Lunch is at noon'));
  assert.equal(
    json(['learnings', 'candidates', 'reject', r.candidate_id, '--reason', 'trivia']).state,
    'rejected',
  );

  const l = json(['learnings', 'candidates', 'publish', c.candidate_id, '--tier', 'provisional']);
  assert.equal(l.status, 'provisional');
  assert.equal(json(['learnings', 'show', l.learning_id]).learning_id, l.learning_id);
  const next = json(['learnings', 'supersede', l.learning_id, '--content', 'Reports in English']);
  assert.equal(next.supersedes, l.learning_id);
  assert.deepEqual(
    json(['learnings', 'list', '--scope', 'session:cli-s', '--status', 'active']).map(
      (x: any) => x.learning_id,
    ),
    [next.learning_id],
  );
  assert.equal(json(['learnings', 'revoke', next.learning_id, '--reason', 'changed']).status, 'revoked');
  assert.equal(json(['learnings', 'revoke-matching', '--all']).revoked_count, 0);

  // Policy: set from a file (wrapped form), get, and a stale revision is a conflict (exit 1).
  const revision = json(['runtime', 'get']).config.revision as number;
  writeFileSync(join(dir, 'policy.json'), JSON.stringify({ policy: { mode: 'manual_only' } }));
  // The same line twice: the second one names a revision that is no longer current.
  const setPolicy = [
    'learnings',
    'policy',
    'set',
    '--file',
    'policy.json',
    '--expected-revision',
    String(revision),
  ];
  const set = json(setPolicy);
  assert.equal(set.learning_policy.mode, 'manual_only');
  assert.equal(json(['learnings', 'policy', 'get']).mode, 'manual_only');
  const stale = cli(setPolicy);
  assert.notEqual(stale.status, 0);
  assert.match(stale.stderr, /runtime_revision_conflict/);

  // Refusals: a secret (400), an unknown candidate (404), a bad scope flag (usage, exit 2).
  const secret = cli(workspaceFact('x-api-key: abcdef123'));
  assert.notEqual(secret.status, 0);
  assert.match(secret.stderr, /learning_content_rejected/);
  const missing = cli(['learnings', 'show', 'learning-none']);
  assert.notEqual(missing.status, 0);
  assert.match(missing.stderr, /learning_not_found/);
  assert.equal(cli(['learnings', 'candidates', 'list', '--scope', 'session']).status, 2);

  // The SDK resource the CLI is built on.
  const sdk = new Kheish({ baseUrl: d.url });
  const made = await sdk.learnings.createCandidate({
    scope: { kind: 'workspace' },
    kind: 'decision',
    content: 'Adopt weekly releases',
  });
  const pub = await sdk.learnings.publishCandidate(made.candidate_id);
  assert.equal(pub.status, 'active');
  assert.equal((await sdk.learnings.list({ kind: 'decision' }))[0]!.learning_id, pub.learning_id);
  assert.equal((await sdk.learnings.getPolicy()).mode, 'manual_only');
});
