// Projects conformance, starts and guards (api-collab §2.8–2.9; checklist #25–#28 and decisions
// 375, 378, 384): the start rules, the run it submits, the task following that run, deletion
// guards and the session-end guard. Both stores (KHEISH_TEST_STORE=postgres).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { http, waitForRun } from '../helpers/daemon.ts';
import { jsonColumn, queryState } from '../helpers/state-query.ts';
import { projectsDaemon } from './projects-support.ts';
import { assertProblem, createSession } from './support.ts';

const { daemon, base, ok, project, task, getTask, snapshot } = projectsDaemon();

test('api-collab #25: start is rejected when unassigned, with an open dependency, or while the latest run is live', async () => {
  await project('p25', ['s25']);
  await task('p25', { project_task_id: 'free', title: 'Unassigned' });
  assertProblem(
    await http(base(), 'POST', '/v1/projects/p25/tasks/free/start', {}),
    409,
    'projects',
    'task_unassigned',
  );
  await task('p25', {
    project_task_id: 'dep',
    title: 'Dependency',
    assignment: { assignee_member_id: 'm-s25' },
  });
  await task('p25', {
    project_task_id: 'after',
    title: 'After',
    blocked_by: ['dep'],
    assignment: { assignee_member_id: 'm-s25' },
  });
  const before = await snapshot('p25');
  const runsBefore = (await ok('GET', '/v1/runs?session_id=s25')).length;
  const blocked = await http(base(), 'POST', '/v1/projects/p25/tasks/after/start', {});
  assertProblem(blocked, 409, 'projects', 'dependencies_incomplete');
  assert.match(blocked.body.detail, /dep/);
  assert.deepEqual(await snapshot('p25'), before, 'a refused start writes nothing');
  assert.equal((await ok('GET', '/v1/runs?session_id=s25')).length, runsBefore, 'and submits no run');

  // A live run: the second start is refused while it runs.
  await task('p25', {
    project_task_id: 'long',
    title: 'hang here',
    assignment: { assignee_member_id: 'm-s25' },
  });
  const run = await ok('POST', '/v1/projects/p25/tasks/long/start', {}, 202);
  const live = await snapshot('p25');
  assertProblem(
    await http(base(), 'POST', '/v1/projects/p25/tasks/long/start', {}),
    409,
    'projects',
    'task_run_active',
  );
  assert.deepEqual(await snapshot('p25'), live);
  await ok('POST', `/v1/runs/${run.run_id}/cancel`);
  await waitForRun(base(), run.run_id);
  // Cancelled run → cancelled task (terminal): it must be reopened first.
  assert.equal((await getTask('p25', 'long')).status, 'cancelled');
  assertProblem(
    await http(base(), 'POST', '/v1/projects/p25/tasks/long/start', {}),
    409,
    'projects',
    'task_terminal',
  );
  assertProblem(
    await http(base(), 'POST', '/v1/projects/p25/tasks/long/start', { metadata: { kheish_project_task: 1 } }),
    400,
    'projects',
    'invalid_start',
  );
  // Two starts at once: one run, one refusal (the project's writes are serialized on both stores).
  await task('p25', {
    project_task_id: 'twice',
    title: 'hang twice',
    assignment: { assignee_member_id: 'm-s25' },
  });
  const both = await Promise.all(
    [1, 2].map(() => http(base(), 'POST', '/v1/projects/p25/tasks/twice/start', {})),
  );
  assert.deepEqual(both.map((r) => r.status).sort(), [202, 409], both.map((r) => r.text).join('\n'));
  const winner = both.find((r) => r.status === 202)!.body;
  assertProblem(both.find((r) => r.status === 409)!, 409, 'projects', 'task_run_active');
  const hanging = (await ok('GET', '/v1/runs?session_id=s25')).filter(
    (r: any) => r.status === 'running' || r.status === 'queued',
  );
  assert.deepEqual(
    hanging.map((r: any) => r.run_id),
    [winner.run_id],
  );
  await ok('POST', `/v1/runs/${winner.run_id}/cancel`);
  await waitForRun(base(), winner.run_id);
  // A project that is not active.
  await ok('PUT', '/v1/projects/p25', { status: 'paused' });
  assertProblem(
    await http(base(), 'POST', '/v1/projects/p25/tasks/dep/start', {}),
    409,
    'projects',
    'project_not_active',
  );
  await ok('PUT', '/v1/projects/p25', { status: 'active' });
});

test('api-collab #26: start returns an input RunView in the assignee session; latest_run_id and status follow it', async () => {
  await project('p26', ['s26']);
  await task('p26', {
    project_task_id: 't1',
    title: 'Write the summary',
    description: 'Two lines.',
    assignment: { assignee_member_id: 'm-s26' },
  });
  const run = await ok(
    'POST',
    '/v1/projects/p26/tasks/t1/start',
    { model: 'scripted', metadata: { ticket: 'T-1' } },
    202,
  );
  assert.equal(run.kind, 'input');
  assert.equal(run.session_id, 's26');
  const t = await getTask('p26', 't1');
  assert.equal(t.latest_run_id, run.run_id);
  assert.equal(t.primary_session_id, 's26');
  // At the start the task was pending iff the run was queued (the idle session started it at once).
  const startEvent = (await ok('GET', '/v1/projects/p26/events')).find((e: any) => e.kind === 'task_started');
  assert.equal(startEvent.run_id, run.run_id);
  assert.equal(startEvent.data.task.status, run.status === 'queued' ? 'pending' : 'in_progress');
  const events = await ok('GET', `/v1/runs/${run.run_id}/events`);
  assert.ok(Array.isArray(events));
  const done = await waitForRun(base(), run.run_id);
  assert.equal(done.status, 'completed');
  const after = await getTask('p26', 't1');
  assert.equal(after.status, 'completed', 'decision 375: the task follows its run to completion');
  assert.equal(after.output, 'task done', 'the final answer becomes the output');
  // The run carries the caller metadata and the daemon's project reference.
  const full = await ok('GET', `/v1/runs/${run.run_id}`);
  const [row] = await queryState(daemon(), 'SELECT model, request FROM runs WHERE run_id = ?', [run.run_id]);
  assert.equal(row.model, 'scripted', 'the model override is pinned');
  assert.match(jsonColumn(row.request).content, /Write the summary[\s\S]*Two lines\./);
  assert.equal(full.input_metadata.ticket, 'T-1');
  assert.deepEqual(full.input_metadata.kheish_project_task, {
    project_id: 'p26',
    project_task_id: 't1',
    discussion: null,
  });

  // Queued behind another run: the task stays pending until its run starts.
  await task('p26', {
    project_task_id: 'blocker',
    title: 'hang first',
    assignment: { assignee_member_id: 'm-s26' },
  });
  await task('p26', {
    project_task_id: 'queued',
    title: 'Queued one',
    assignment: { assignee_member_id: 'm-s26' },
  });
  const first = await ok('POST', '/v1/projects/p26/tasks/blocker/start', {}, 202);
  const second = await ok('POST', '/v1/projects/p26/tasks/queued/start', {}, 202);
  assert.equal(second.status, 'queued');
  assert.equal((await getTask('p26', 'queued')).status, 'pending');
  assert.equal((await getTask('p26', 'blocker')).status, 'in_progress');
  await ok('POST', `/v1/runs/${first.run_id}/cancel`);
  await waitForRun(base(), second.run_id);
  assert.equal((await getTask('p26', 'queued')).status, 'completed');
  assert.equal((await getTask('p26', 'blocker')).status, 'cancelled');
  // Filters on the task list.
  assert.deepEqual(
    (await ok('GET', '/v1/projects/p26/tasks?status=completed')).map((x: any) => x.project_task_id),
    ['t1', 'queued'],
  );
  assert.deepEqual(
    (await ok('GET', '/v1/projects/p26/tasks?query=TASK%20DONE')).map((x: any) => x.project_task_id),
    ['t1', 'queued'],
    'query matches the recorded output',
  );
});

test('api-collab §2.8 (decision 375): a failed run fails the task; a task reopened by hand starts again', async () => {
  await project('p-outcome', ['s-outcome']);
  await task('p-outcome', {
    project_task_id: 'f',
    title: 'fail please',
    assignment: { assignee_member_id: 'm-s-outcome' },
  });
  const run = await ok('POST', '/v1/projects/p-outcome/tasks/f/start', {}, 202);
  await waitForRun(base(), run.run_id);
  assert.equal((await getTask('p-outcome', 'f')).status, 'failed');
  await ok('PUT', '/v1/projects/p-outcome/tasks/f', { status: 'pending', title: 'now it works' });
  const again = await ok('POST', '/v1/projects/p-outcome/tasks/f/start', {}, 202);
  assert.notEqual(again.run_id, run.run_id);
  await waitForRun(base(), again.run_id);
  assert.equal((await getTask('p-outcome', 'f')).status, 'completed');
  // A status set by hand is not overwritten by the run.
  await ok('PUT', '/v1/projects/p-outcome/tasks/f', { status: 'pending', title: 'hang now' });
  const third = await ok('POST', '/v1/projects/p-outcome/tasks/f/start', {}, 202);
  await ok('PUT', '/v1/projects/p-outcome/tasks/f', { status: 'blocked' });
  await ok('POST', `/v1/runs/${third.run_id}/cancel`);
  await waitForRun(base(), third.run_id);
  assert.equal((await getTask('p-outcome', 'f')).status, 'blocked');
});

test('api-collab §2.8 (decision 376): an interrupted run cancels its task', async () => {
  await project('p-interrupt', ['s-interrupt']);
  await task('p-interrupt', {
    project_task_id: 'i',
    title: 'hang on',
    assignment: { assignee_member_id: 'm-s-interrupt' },
  });
  const run = await ok('POST', '/v1/projects/p-interrupt/tasks/i/start', {}, 202);
  assert.equal((await getTask('p-interrupt', 'i')).status, 'in_progress');
  await ok('POST', '/v1/sessions/s-interrupt/interrupt', {});
  assert.equal((await waitForRun(base(), run.run_id)).status, 'interrupted');
  assert.equal((await getTask('p-interrupt', 'i')).status, 'cancelled');
});

test('api-collab #27: deleting a depended-on task, a project with tasks, or a member owning open tasks is rejected', async () => {
  await project('p27', ['s27']);
  await task('p27', { project_task_id: 'a', title: 'A', assignment: { assignee_member_id: 'm-s27' } });
  await task('p27', { project_task_id: 'b', title: 'B', blocked_by: ['a'] });
  const before = await snapshot('p27');
  assertProblem(
    await http(base(), 'DELETE', '/v1/projects/p27/tasks/a'),
    409,
    'projects',
    'task_has_dependents',
  );
  assertProblem(await http(base(), 'DELETE', '/v1/projects/p27'), 409, 'projects', 'project_has_tasks');
  assertProblem(
    await http(base(), 'DELETE', '/v1/projects/p27/members/m-s27'),
    409,
    'projects',
    'member_owns_tasks',
  );
  assert.deepEqual(await snapshot('p27'), before);
  // Once the owner's task is terminal the member can leave; once the tasks are gone the project can go.
  await ok('PUT', '/v1/projects/p27/tasks/a', { status: 'completed' });
  await ok('DELETE', '/v1/projects/p27/members/m-s27');
  await ok('DELETE', '/v1/projects/p27/tasks/b');
  await ok('DELETE', '/v1/projects/p27/tasks/a');
  assert.deepEqual(await ok('DELETE', '/v1/projects/p27'), { deleted: true });
  assertProblem(await http(base(), 'GET', '/v1/projects/p27'), 404, 'projects', 'project_not_found');
});

test('api-collab #28: ending a session that is a project member, or owns open project tasks, is rejected', async () => {
  await project('p28', ['s28']);
  const end = await http(base(), 'POST', '/v1/sessions/s28/end', {});
  assertProblem(end, 409, 'projects', 'session_is_project_member');
  assert.equal((await ok('GET', '/v1/sessions/s28')).ended_at_ms ?? null, null, 'the session is not ended');
  // A running task keeps running: the refused end interrupted nothing.
  await task('p28', { project_task_id: 'h', title: 'hang', assignment: { assignee_member_id: 'm-s28' } });
  const run = await ok('POST', '/v1/projects/p28/tasks/h/start', {}, 202);
  assertProblem(
    await http(base(), 'POST', '/v1/sessions/s28/end', {}),
    409,
    'projects',
    'session_is_project_member',
  );
  assert.equal((await ok('GET', `/v1/runs/${run.run_id}`)).status, 'running');
  await ok('POST', `/v1/runs/${run.run_id}/cancel`);
  await waitForRun(base(), run.run_id);
  // No longer a member (its tasks terminal), but a task reopened by hand is still the session's.
  await ok('DELETE', '/v1/projects/p28/members/m-s28');
  await ok('PUT', '/v1/projects/p28/tasks/h', { status: 'pending' });
  const owns = await http(base(), 'POST', '/v1/sessions/s28/end', {});
  assertProblem(owns, 409, 'projects', 'session_owns_project_tasks');
  assert.match(owns.body.detail, /p28\/h/);
  await ok('PUT', '/v1/projects/p28/tasks/h', { status: 'cancelled' });
  await ok('POST', '/v1/sessions/s28/end', {});
});

test('api-collab §2.9 (decision 378): a session that owns open tasks cannot end; a task whose assignee session ended cannot start', async () => {
  // The member's session ended before it joined (an ended session may be reopened, so joining is allowed).
  await createSession(base(), 'gone');
  await ok('POST', '/v1/sessions/gone/end', {});
  await project('pend', []);
  await ok('POST', '/v1/projects/pend/members', {
    member_id: 'g',
    member_kind: 'session',
    display_name: 'G',
    session_id: 'gone',
  });
  await task('pend', { project_task_id: 't', title: 'T', assignment: { assignee_member_id: 'g' } });
  const before = await snapshot('pend');
  assertProblem(
    await http(base(), 'POST', '/v1/projects/pend/tasks/t/start', {}),
    409,
    'projects',
    'assignee_session_ended',
  );
  assert.deepEqual(await snapshot('pend'), before);
  assert.deepEqual(await ok('GET', '/v1/runs?session_id=gone'), []);
});
