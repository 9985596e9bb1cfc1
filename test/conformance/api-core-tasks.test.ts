// api-core §15 item 77 (and §6.1–6.2): session tasks over HTTP. A scripted run creates one work
// task (task_create) and one background shell task (bash run_in_background) that waits for a file
// in the workspace, so the test decides when it ends (no timing assumptions).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { collectSse, http, startDaemon, type TestDaemon, tempDir } from '../helpers/daemon.ts';
import { assertProblem } from './support.ts';

const ADMIN = 'tasks-admin-token-0123456789';
const READONLY = 'tasks-readonly-token-0123456789';
const admin = { authorization: `Bearer ${ADMIN}` };
const readonly = { authorization: `Bearer ${READONLY}` };
const SESSION = 'conf-tasks';

const workspace = tempDir('kheish-conf-tasks-ws-');
const script = {
  rules: [
    {
      match: '^make tasks$',
      turns: [
        {
          tool_calls: [
            { name: 'task_create', arguments: { title: 'write the plan', description: 'first' } },
            {
              name: 'bash',
              arguments: {
                command: 'echo waiting; while [ ! -f go ]; do sleep 0.05; done; echo finished',
                run_in_background: true,
              },
            },
          ],
        },
        { text: 'tasks created' },
      ],
    },
  ],
};

let d: TestDaemon;
let work: any;
let shell: any;
const get = (path: string, headers = admin) => http(d.url, 'GET', path, undefined, headers);
const tasksPath = `/v1/sessions/${SESSION}/tasks`;

before(async () => {
  d = await startDaemon({
    script,
    args: ['--workspace-root', workspace, '--http-admin-token', ADMIN, '--http-readonly-token', READONLY],
  });
  await http(d.url, 'POST', '/v1/runtime/permission-mode', { mode: 'bypassPermissions' }, admin);
  await http(d.url, 'POST', '/v1/sessions', { session_id: SESSION }, admin);
  const run = await http(d.url, 'POST', `/v1/sessions/${SESSION}/input`, { content: 'make tasks' }, admin);
  assert.equal(run.status, 200, run.text);
  const list = await get(tasksPath);
  assert.equal(list.status, 200, list.text);
  work = list.body.find((t: any) => t.kind === 'work');
  shell = list.body.find((t: any) => t.kind === 'shell');
  assert.ok(work && shell, list.text);
});

after(async () => {
  writeFileSync(join(workspace, 'go'), '');
  await d?.stop();
  await d?.cleanup();
});

test('api-core #77: an unknown task id is 404 Problem(tasks/task_not_found) on every task route', async () => {
  for (const path of [`${tasksPath}/task-unknown`, `${tasksPath}/task-unknown/output`]) {
    assertProblem(await get(path), 404, 'tasks', 'task_not_found', path);
  }
  const stop = await http(d.url, 'POST', `${tasksPath}/task-unknown/stop`, {}, admin);
  assertProblem(stop, 404, 'tasks', 'task_not_found', 'stop');
  // A task of this session is not reachable through another session.
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'conf-tasks-other' }, admin);
  assertProblem(await get(`/v1/sessions/conf-tasks-other/tasks/${work.id}`), 404, 'tasks', 'task_not_found');
  assertProblem(await get('/v1/sessions/no-such-session/tasks'), 404, 'sessions', 'session_not_found');
  assertProblem(
    await get(`/v1/sessions/no-such-session/tasks/${work.id}`),
    404,
    'sessions',
    'session_not_found',
  );
});

test('api-core #77: TaskRecord has the documented fields', async () => {
  const res = await get(`${tasksPath}/${work.id}`);
  assert.equal(res.status, 200);
  for (const k of [
    'id',
    'title',
    'description',
    'status',
    'owner_agent_id',
    'blocked_by',
    'blocks',
    'output',
    'metadata',
    'created_at_ms',
    'updated_at_ms',
  ])
    assert.ok(k in res.body, `TaskRecord.${k}`);
  assert.equal(res.body.title, 'write the plan');
  assert.equal(res.body.status, 'pending');
  assert.match(res.body.id, /^task-/);
  assert.ok(['pending', 'in_progress', 'blocked', 'completed', 'failed', 'cancelled'].includes(shell.status));
  assert.equal(shell.metadata.command.startsWith('echo waiting'), true);
});

test('api-core #77: output retrieval_status is not_ready, timeout, then success once the task ended', async () => {
  const keys = [
    'retrieval_status',
    'task',
    'output_file_path',
    'output_excerpt',
    'output_text',
    'output_truncated',
    'output_size_bytes',
    'output_total_bytes',
    'output_rotated',
    'output_rotation_count',
  ];
  const now = await get(`${tasksPath}/${shell.id}/output`);
  assert.equal(now.status, 200, now.text);
  for (const k of keys) assert.ok(k in now.body, `TaskOutputView.${k}`);
  assert.equal(now.body.retrieval_status, 'not_ready');
  assert.equal(now.body.task.status, 'in_progress');
  const waited = await get(`${tasksPath}/${shell.id}/output?wait=true&timeout_ms=100`);
  assert.equal(waited.body.retrieval_status, 'timeout');
  writeFileSync(join(workspace, 'go'), '');
  const done = await get(`${tasksPath}/${shell.id}/output?wait=true&timeout_ms=20000&full=true`);
  assert.equal(done.body.retrieval_status, 'success');
  assert.equal(done.body.task.status, 'completed');
  assert.equal(done.body.task.metadata.exit_code, 0);
  assert.equal(done.body.output_text, 'waiting\nfinished\n');
  assert.equal(done.body.output_total_bytes, 17);
  for (const res of [now, waited, done])
    assert.ok(['success', 'not_ready', 'timeout'].includes(res.body.retrieval_status));
  const bad = await get(`${tasksPath}/${shell.id}/output?timeout_ms=-1`);
  assertProblem(bad, 400, undefined, undefined, 'negative timeout_ms');
});

test('api-core §6.1: task listing is a legacy array by default and an envelope with page/cursor (task_id_asc)', async () => {
  const legacy = await get(tasksPath);
  assert.ok(Array.isArray(legacy.body));
  const ids = legacy.body.map((t: any) => t.id);
  assert.deepEqual([...ids].sort(), ids, 'ordered by task id');
  const first = await get(`${tasksPath}?page=true&limit=1`);
  assert.equal(first.body.pagination.order, 'task_id_asc');
  assert.equal(first.body.pagination.total_count, 2);
  assert.equal(first.body.pagination.has_more, true);
  assert.equal(first.body.items.length, 1);
  const second = await get(`${tasksPath}?limit=1&cursor=${first.body.pagination.next_cursor}`);
  assert.deepEqual(
    [...first.body.items, ...second.body.items].map((t: any) => t.id),
    ids,
  );
  assert.equal(second.body.pagination.has_more, false);
  const pending = await get(`${tasksPath}?status=pending`);
  assert.deepEqual(
    pending.body.map((t: any) => t.id),
    [work.id],
  );
  const dashed = await get(`${tasksPath}?status=in-progress`);
  assert.ok(Array.isArray(dashed.body));
  assertProblem(await get(`${tasksPath}?status=done`), 400);
  assertProblem(await get(`${tasksPath}?limit=0`), 400, 'pagination', 'invalid_limit');
  assertProblem(await get(`${tasksPath}?cursor=!!`), 400, 'pagination', 'invalid_cursor');
});

test('api-core §6.2: a read-only token reads tasks but may not stop them; stop answers the TaskRecord', async () => {
  assert.equal((await get(tasksPath, readonly)).status, 200);
  assert.equal((await get(`${tasksPath}/${work.id}/output`, readonly)).status, 200);
  const denied = await http(d.url, 'POST', `${tasksPath}/${work.id}/stop`, {}, readonly);
  assertProblem(denied, 403, 'auth', 'insufficient_access');
  assert.equal((await get(`${tasksPath}/${work.id}`)).body.status, 'pending', 'nothing changed');
  const stopped = await http(d.url, 'POST', `${tasksPath}/${work.id}/stop`, { reason: 'operator' }, admin);
  assert.equal(stopped.status, 200, stopped.text);
  assert.equal(stopped.body.status, 'cancelled');
  assert.equal(stopped.body.metadata.stop_reason, 'operator');
  const again = await http(d.url, 'POST', `${tasksPath}/${work.id}/stop`, undefined, admin);
  assert.equal(again.body.status, 'cancelled', 'stopping a finished task changes nothing');
  assertProblem(await http(d.url, 'POST', `${tasksPath}/${work.id}/stop`, { why: 1 }, admin), 400);
});

test('api-core §6.2: task changes are durable session events (task_created, task_completed)', async () => {
  const sse = await collectSse(`${d.url}/v1/sessions/${SESSION}/stream?cursor=0`, {
    headers: admin,
    until: (frames) => frames.filter((f) => f.event === 'task_completed').length >= 2,
  });
  const names = sse.frames.filter((f) => f.event.startsWith('task_'));
  const created = names.filter((f) => f.event === 'task_created').map((f) => f.data.task.id);
  assert.deepEqual(created.sort(), [shell.id, work.id].sort());
  const completed = names.filter((f) => f.event === 'task_completed').map((f) => f.data.task.status);
  assert.deepEqual(completed.sort(), ['cancelled', 'completed']);
  for (const f of names) assert.ok(f.id, 'durable frames carry an id');
  const status = await get('/v1/status');
  assert.equal(status.body.tasks.completed, 1);
  assert.equal(status.body.tasks.cancelled, 1);
});
