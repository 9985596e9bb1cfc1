// ops-runtime §11: every runtime mutation is a durable revision; the history is retained up to
// `history_limit`, a rollback re-applies an old snapshot as a new revision, and all of it survives a
// restart. api-core #68 (debug levels) and #71 (non-retained rollback target) live here too.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { BIN, collectSse, http, startDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { assertProblem } from './support.ts';

let d: TestDaemon;
before(async () => {
  d = await startDaemon();
});
after(async () => {
  await d.kill();
  await d.cleanup();
});

const runtime = async () => (await http(d.url, 'GET', '/v1/runtime')).body;
const revisionNow = async (): Promise<number> => (await runtime()).config.revision;
const setMode = (mode: string) => http(d.url, 'POST', '/v1/runtime/permission-mode', { mode });
const cli = (...args: string[]) =>
  promisify(execFile)(BIN, ['--base-url', d.url, ...args], { encoding: 'utf8' });

test('api-core #68: POST /v1/runtime/debug-level accepts exactly off, on, redacted and full', async () => {
  for (const level of ['off', 'on', 'redacted', 'full', 'off']) {
    const res = await http(d.url, 'POST', '/v1/runtime/debug-level', { level });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.debug_level, level);
    assert.equal((await runtime()).debug_level, level);
  }
  const revision = await revisionNow();
  for (const level of ['verbose', 'OFF', '', null, 1])
    assertProblem(await http(d.url, 'POST', '/v1/runtime/debug-level', { level }), 400);
  assert.equal(await revisionNow(), revision, 'a refused level appends no revision');
});

test('ops-runtime #35 / api-core #71: rollback appends a `rollback` revision restoring the target; an unretained target is 404', async () => {
  assert.equal((await setMode('plan')).status, 200);
  const planRevision = await revisionNow();
  await setMode('bypassPermissions');
  const before = await revisionNow();
  const rolled = await http(d.url, 'POST', '/v1/runtime/rollback', {
    target_revision: planRevision,
    expected_revision: before,
  });
  assert.equal(rolled.status, 200, rolled.text);
  assert.equal(rolled.body.config.revision, before + 1, 'a rollback is a new revision');
  assert.equal(rolled.body.permission_mode, 'plan', 'the target snapshot is in force');

  const history = (await http(d.url, 'GET', '/v1/runtime/revisions')).body;
  assert.equal(history.current_revision, before + 1);
  const [latest, previous] = history.revisions;
  assert.equal(latest.revision, before + 1, 'newest first');
  assert.equal(latest.setting, 'rollback');
  assert.equal(latest.rollback_of_revision, planRevision);
  assert.equal(latest.source, 'runtime_api');
  assert.equal(latest.current, true);
  assert.equal(previous.revision, before);
  assert.equal(previous.setting, 'permission_mode');

  for (const target of [99_999, 0])
    assertProblem(
      await http(d.url, 'POST', '/v1/runtime/rollback', { target_revision: target }),
      404,
      'runtime',
      'runtime_revision_not_found',
    );
  assertProblem(
    await http(d.url, 'POST', '/v1/runtime/rollback', {
      target_revision: planRevision,
      expected_revision: 1,
    }),
    409,
    'runtime',
    'runtime_revision_conflict',
  );
  assert.equal(await revisionNow(), before + 1, 'refused rollbacks append nothing');
  await setMode('default');
});

test('ops-runtime #35: without a target, rollback restores the previous revision; skip_hooks is recorded as runtime_api_force', async () => {
  await setMode('acceptEdits');
  await setMode('dontAsk');
  const res = await http(d.url, 'POST', '/v1/runtime/rollback', { skip_hooks: true });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.permission_mode, 'acceptEdits');
  const latest = (await http(d.url, 'GET', '/v1/runtime/revisions')).body.revisions[0];
  assert.equal(latest.source, 'runtime_api_force');
  assert.equal(latest.rollback_of_revision, res.body.config.revision - 2);
  const { frames } = await collectSse(`${d.url}/v1/events/stream?cursor=0`, {
    until: (fs) => fs.some((f) => f.data?.runtime?.config?.revision === res.body.config.revision),
  });
  assert.ok(
    frames.some(
      (f) => f.event === 'runtime_updated' && f.data.runtime.config.revision === res.body.config.revision,
    ),
    'a rollback publishes runtime_updated',
  );
  await setMode('default');
});

test('ops-runtime §11: the history keeps `history_limit` revisions besides the current one; older ones cannot be targets', async () => {
  const first = await revisionNow();
  const limit = (await runtime()).config.history_limit as number;
  for (let i = 0; i <= limit + 1; i++) await setMode(i % 2 ? 'plan' : 'default');
  const history = (await http(d.url, 'GET', '/v1/runtime/revisions')).body;
  assert.equal(history.history_limit, limit);
  assert.equal(history.revisions.length, limit + 1, 'the current one and history_limit earlier ones');
  assert.equal((await runtime()).config.history_len, limit + 1);
  const oldest = history.revisions.at(-1).revision;
  assert.ok(oldest > first, 'the oldest revisions were pruned');
  assertProblem(
    await http(d.url, 'POST', '/v1/runtime/rollback', { target_revision: oldest - 1 }),
    404,
    'runtime',
    'runtime_revision_not_found',
  );
  assert.equal((await http(d.url, 'POST', '/v1/runtime/rollback', { target_revision: oldest })).status, 200);
  await setMode('default');
});

test('ops-runtime #35: the latest revision, its settings and the history survive a restart', async () => {
  await http(d.url, 'POST', '/v1/runtime/system-prompt', { settings: { append_prompt: 'Be brief.' } });
  await http(d.url, 'POST', '/v1/runtime/debug-level', { level: 'redacted' });
  await setMode('plan');
  const before = await runtime();
  const history = (await http(d.url, 'GET', '/v1/runtime/revisions')).body;
  await d.stop();
  d = await d.restart();
  const after = await runtime();
  assert.equal(after.config.revision, before.config.revision);
  assert.equal(after.permission_mode, 'plan');
  assert.equal(after.debug_level, 'redacted');
  assert.deepEqual(after.system_prompt, { append_prompt: 'Be brief.' });
  assert.deepEqual((await http(d.url, 'GET', '/v1/runtime/revisions')).body, history);
  // A rollback after the restart still reaches the snapshots from before it.
  const res = await http(d.url, 'POST', '/v1/runtime/rollback', {
    target_revision: before.config.revision - 2,
  });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body.system_prompt, { append_prompt: 'Be brief.' });
  assert.equal(res.body.debug_level, 'off', 'the debug level set after the target is undone');
  await setMode('default');
});

test('runtime CLI: set-debug-level, set-system-prompt, revisions and rollback', async () => {
  const debug = await cli('runtime', 'set-debug-level', 'on');
  assert.match(debug.stdout, /^debug level: on\nrevision: \d+\n$/);
  const bad = await cli('runtime', 'set-debug-level', 'loud').catch((e) => e);
  assert.equal(bad.code, 2, 'an invalid level is a usage error');
  assert.match(bad.stderr, /expected one of off, on, redacted, full/);

  await cli('runtime', 'set-system-prompt', '--reset');
  const custom = await cli('runtime', 'set-system-prompt', 'You review code.', '--language', 'French');
  assert.match(custom.stdout, /custom_prompt: You review code\./);
  assert.match(custom.stdout, /language: +French/);
  await cli('runtime', 'set-system-prompt', '--mode', 'append', 'Cite files.');
  assert.deepEqual((await runtime()).system_prompt, {
    custom_prompt: 'You review code.',
    append_prompt: 'Cite files.',
    language: 'French',
  });
  await cli('runtime', 'set-system-prompt', '--clear-text');
  assert.deepEqual((await runtime()).system_prompt, { language: 'French' });

  const list = await cli('runtime', 'revisions');
  const current = await revisionNow();
  assert.match(list.stdout, new RegExp(`^current revision: ${current} `));
  assert.match(list.stdout, new RegExp(`^${current} \\*\\s+system_prompt\\s+runtime_api`, 'm'));
  const back = await cli('runtime', 'rollback', '--target-revision', String(current - 1));
  assert.match(back.stdout, new RegExp(`now at revision ${current + 1}`));
  assert.equal((await runtime()).system_prompt.append_prompt, 'Cite files.');
  const missing = await cli('runtime', 'rollback', '--target-revision', '99999').catch((e) => e);
  assert.equal(missing.code, 5, 'a revision that is not retained exits 5 (not found)');
  assert.match(missing.stderr, /runtime_revision_not_found/);
  const json = JSON.parse((await cli('--output', 'json', 'runtime', 'revisions')).stdout);
  assert.equal(json.revisions[0].setting, 'rollback');
  await cli('runtime', 'set-system-prompt', '--reset');
});
