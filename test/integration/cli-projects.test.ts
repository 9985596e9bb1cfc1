// The projects CLI against a live daemon (issue 17): projects create/get/update/list/events,
// members add/list/remove, tasks create/update/list/get/start/delete, the exit codes of refused
// requests, and the SDK resource it is built on.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { itemsOf, Kheish } from '../../src/sdk/index.ts';
import { cliJson, runCli } from '../helpers/cli.ts';
import { startDaemon, type TestDaemon, tempDir } from '../helpers/daemon.ts';

let d: TestDaemon;
const dir = tempDir('kheish-cli-projects-');

before(async () => {
  d = await startDaemon({ script: { default: { turns: [{ text: 'routes checked' }] } } });
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
});

const cli = (args: string[]) => runCli(d, args, { cwd: dir });
const json = (args: string[]) => cliJson(d, args, { cwd: dir });

test('projects CLI: create, members, tasks with dependencies, start, wait, and refused requests exit with their code', () => {
  json(['sessions', 'create', 'impl']);
  json(['sessions', 'create', 'review']);
  const made = json([
    'projects',
    'create',
    'release',
    '--display-name',
    'Release',
    '--description',
    'Ship it',
    '--members-json',
    '[{"member_id":"impl","member_kind":"session","display_name":"Implementer"}]',
    '--metadata-json',
    '{"quarter":"Q2"}',
  ]);
  assert.equal(made.status, 'active');
  assert.deepEqual(made.metadata, { quarter: 'Q2' });
  const reviewer = json([
    'projects',
    'members',
    'add',
    'release',
    'reviewer',
    '--kind',
    'session',
    '--display-name',
    'Reviewer',
    '--session',
    'review',
    '--expertise',
    'routing, rust',
  ]);
  assert.deepEqual(reviewer.expertise_tags, ['routing', 'rust']);
  json([
    'projects',
    'members',
    'add',
    'release',
    'alice',
    '--kind',
    'human-actor',
    '--display-name',
    'Alice',
  ]);
  assert.deepEqual(
    json(['projects', 'members', 'list', 'release']).map((m: any) => m.member_id),
    ['impl', 'reviewer', 'alice'],
  );

  json([
    'projects',
    'tasks',
    'create',
    'release',
    '--id',
    'notes',
    '--title',
    'Collect notes',
    '--assignee-member',
    'impl',
  ]);
  const check = json([
    'projects',
    'tasks',
    'create',
    'release',
    '--id',
    'check',
    '--title',
    'Check routes',
    '--assignee-session',
    'review',
    '--blocked-by',
    'notes',
  ]);
  assert.equal(check.assignee_member_id, 'reviewer');
  assert.deepEqual(check.blocked_by, ['notes']);

  // Refused: an open dependency (409 → exit 6), an unknown project (404 → 5), a bad body (400 → 2).
  const blocked = cli(['projects', 'tasks', 'start', 'release', 'check']);
  assert.equal(blocked.status, 6, blocked.stderr);
  assert.match(blocked.stderr, /dependencies_incomplete|not completed/);
  assert.equal(cli(['projects', 'get', 'nope']).status, 5);
  assert.equal(
    cli(['projects', 'tasks', 'create', 'release', '--title', 'x', '--assignee-member', 'alice']).status,
    2,
  );
  assert.equal(cli(['projects', 'members', 'remove', 'release', 'impl']).status, 6, 'impl owns an open task');

  const run = json(['projects', 'tasks', 'start', 'release', 'notes', '--model', 'scripted']);
  assert.equal(run.kind, 'input');
  assert.equal(run.session_id, 'impl');
  const waited = cli(['runs', 'wait', run.run_id]);
  assert.equal(waited.status, 0, waited.stderr);
  const notes = json(['projects', 'tasks', 'get', 'release', 'notes']);
  assert.equal(notes.status, 'completed');
  assert.equal(notes.output, 'routes checked');
  const pretty = cli(['projects', 'tasks', 'get', 'release', 'notes']);
  assert.match(pretty.stdout, /status:\s+completed/);
  assert.match(pretty.stdout, /output:\s+routes checked/);

  const updated = json([
    'projects',
    'tasks',
    'update',
    'release',
    'check',
    '--description',
    'Look at routes.toml',
  ]);
  assert.equal(updated.description, 'Look at routes.toml');
  assert.equal(cli(['projects', 'tasks', 'update', 'release', 'check']).status, 2, 'nothing to change');
  const listed = cli(['projects', 'tasks', 'list', 'release', '--status', 'completed']);
  assert.match(listed.stdout, /^TASK\s+STATUS/m);
  assert.match(listed.stdout, /notes\s+completed\s+impl/);
  assert.doesNotMatch(listed.stdout, /check/);

  const view = cli(['projects', 'get', 'release']);
  assert.match(view.stdout, /tasks:\s+2 \(1 completed, 1 pending\)/);
  assert.match(view.stdout, /reviewer\s+session\s+review/);
  assert.ok(json(['projects', 'update', 'release', '--status', 'paused']).status === 'paused');
  assert.match(cli(['projects', 'list', '--status', 'paused']).stdout, /release\s+paused\s+3\s+2\s+Release/);
  const kinds = json(['projects', 'events', 'release']).map((e: any) => e.kind);
  assert.deepEqual(kinds.slice(0, 2), ['project_created', 'member_upserted']);
  assert.ok(kinds.includes('task_started') && kinds.includes('task_followed_run'));
});

test('projects SDK: client.projects reads what the CLI wrote', async () => {
  const k = new Kheish({ baseUrl: d.url });
  const list = itemsOf(await k.projects.list({ query: 'ship' }));
  assert.deepEqual(
    list.map((p) => p.project_id),
    ['release'],
  );
  const tasks = itemsOf(await k.projects.listTasks('release', { assignee_member_id: 'impl' }));
  assert.deepEqual(
    tasks.map((t) => t.project_task_id),
    ['notes'],
  );
});
