// Projects conformance (api-collab §2, checklist #16, #20–#28 and the decisions of docs/decisions.md
// "Projects (issue 17)"): records, members, tasks with assignment and dependencies, start, the task
// following its run, and the cross-resource guards. Items that need linked channels are in
// api-collab-projects-channels.test.ts. Runs on both stores (KHEISH_TEST_STORE=postgres).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon, waitForRun } from '../helpers/daemon.ts';
import { jsonColumn, queryState } from '../helpers/state-query.ts';
import { assertProblem, createSession } from './support.ts';

const SCRIPT = {
  rules: [
    { match: 'hang', turns: [{ hang: true }] },
    { match: 'fail', turns: [{ error: { status: 400, message: 'scripted provider rejected the request' } }] },
  ],
  default: { turns: [{ text: 'task done' }] },
};

let d: TestDaemon;
const base = () => d.url;

before(async () => {
  d = await startDaemon({ script: SCRIPT });
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
});

async function ok(method: string, path: string, body?: unknown, status = 200) {
  const res = await http(base(), method, path, body);
  assert.equal(res.status, status, `${method} ${path}: ${res.text}`);
  return res.body;
}

/** A project with one session member per given session, plus a human member. */
async function project(id: string, sessions: string[], extra: Record<string, unknown> = {}) {
  for (const s of sessions) await createSession(base(), s);
  return ok(
    'POST',
    '/v1/projects',
    {
      project_id: id,
      display_name: `Project ${id}`,
      members: [
        ...sessions.map((s) => ({
          member_id: `m-${s}`,
          member_kind: 'session',
          display_name: s,
          session_id: s,
        })),
        { member_id: 'lead', member_kind: 'human_actor', display_name: 'Lead' },
      ],
      ...extra,
    },
    201,
  );
}

const task = (pid: string, body: Record<string, unknown>, status = 201) =>
  ok('POST', `/v1/projects/${pid}/tasks`, body, status);
const getTask = (pid: string, tid: string) => ok('GET', `/v1/projects/${pid}/tasks/${tid}`);

/** Everything the daemon keeps about a project, to prove a refused request wrote nothing. */
async function snapshot(pid: string) {
  return {
    project: await ok('GET', `/v1/projects/${pid}`),
    tasks: await ok('GET', `/v1/projects/${pid}/tasks`),
    events: await ok('GET', `/v1/projects/${pid}/events?limit=1000`),
  };
}

test('api-collab #16: a project without display_name is 400; without status it is active', async () => {
  assertProblem(await http(base(), 'POST', '/v1/projects', { project_id: 'nameless' }), 400);
  assertProblem(await http(base(), 'GET', '/v1/projects/nameless'), 404, 'projects', 'project_not_found');
  const p = await ok('POST', '/v1/projects', { project_id: 'p16', display_name: 'Sixteen' }, 201);
  assert.equal(p.status, 'active');
  assert.deepEqual(p.members, []);
  assert.deepEqual(p.channel_links, []);
  assertProblem(
    await http(base(), 'POST', '/v1/projects', { project_id: 'p16', display_name: 'Again' }),
    409,
    'projects',
    'project_already_exists',
  );
  const generated = await ok('POST', '/v1/projects', { display_name: 'Generated id' }, 201);
  assert.match(generated.project_id, /^project-[0-9a-z]{26}$/);
  // List filters: query (id, display name, description) and status.
  await ok('PUT', '/v1/projects/p16', { description: 'needle in the description', status: 'paused' });
  const byQuery = await ok('GET', '/v1/projects?query=NEEDLE');
  assert.deepEqual(
    byQuery.map((x: any) => x.project_id),
    ['p16'],
  );
  assert.deepEqual(
    (await ok('GET', '/v1/projects?status=paused')).map((x: any) => x.project_id),
    ['p16'],
  );
});

test('api-collab §2.2 (decision 372): PUT merges the given fields; null clears description and metadata', async () => {
  await ok(
    'POST',
    '/v1/projects',
    { project_id: 'put', display_name: 'Put', description: 'd', metadata: { a: 1 } },
    201,
  );
  const v = await ok('PUT', '/v1/projects/put', { metadata: { b: 2 } });
  assert.equal(v.description, 'd', 'absent field kept');
  assert.deepEqual(v.metadata, { b: 2 }, 'metadata replaced wholesale');
  const cleared = await ok('PUT', '/v1/projects/put', { description: null, metadata: null });
  assert.equal(cleared.description, null);
  assert.deepEqual(cleared.metadata, {});
  assertProblem(await http(base(), 'PUT', '/v1/projects/put', {}), 400, 'projects', 'invalid_project');
  assertProblem(await http(base(), 'PUT', '/v1/projects/put', { members: [] }), 400);
  assertProblem(await http(base(), 'PUT', '/v1/projects/put', { status: 'closed' }), 400);
  assertProblem(
    await http(base(), 'PUT', '/v1/projects/none', { status: 'paused' }),
    404,
    'projects',
    'project_not_found',
  );
});

test('api-collab #20: session_id with agent_id is 400; one session under two member ids is rejected; members upsert', async () => {
  await project('p20', ['s20']);
  const before = await snapshot('p20');
  assertProblem(
    await http(base(), 'POST', '/v1/projects/p20/members', {
      member_id: 'both',
      member_kind: 'session',
      display_name: 'Both',
      session_id: 's20',
      agent_id: 'x',
    }),
    400,
    'projects',
    'invalid_member',
  );
  assertProblem(
    await http(base(), 'POST', '/v1/projects/p20/members', {
      member_id: 'twin',
      member_kind: 'session',
      display_name: 'Twin',
      session_id: 's20',
    }),
    409,
    'projects',
    'member_session_conflict',
  );
  assertProblem(
    await http(base(), 'POST', '/v1/projects/p20/members', {
      member_id: 'k',
      member_kind: 'robot',
      display_name: 'K',
    }),
    400,
  );
  assertProblem(
    await http(base(), 'POST', '/v1/projects/p20/members', {
      member_id: 'ghost',
      member_kind: 'session',
      display_name: 'Ghost',
      session_id: 'no-such-session',
    }),
    400,
    'projects',
    'session_not_found',
  );
  // Same rules in a create body: nothing of the project is written.
  await createSession(base(), 's20b');
  assertProblem(
    await http(base(), 'POST', '/v1/projects', {
      project_id: 'p20-dup',
      display_name: 'Dup',
      members: [
        { member_id: 'a', member_kind: 'session', display_name: 'A', session_id: 's20b' },
        { member_id: 'b', member_kind: 'session', display_name: 'B', session_id: 's20b' },
      ],
    }),
    409,
    'projects',
    'member_session_conflict',
  );
  assertProblem(await http(base(), 'GET', '/v1/projects/p20-dup'), 404);
  assert.deepEqual(await snapshot('p20'), before, 'refused member writes change nothing');

  // Upsert: the same member id updates (merge), a session member without ids falls back to member_id.
  const upd = await ok('POST', '/v1/projects/p20/members', {
    member_id: 'm-s20',
    member_kind: 'session',
    display_name: 'Renamed',
    role: 'reviewer',
  });
  assert.equal(upd.session_id, 's20', 'binding kept when neither id is given');
  assert.equal(upd.role, 'reviewer');
  await createSession(base(), 'fallback');
  const fb = await ok('POST', '/v1/projects/p20/members', {
    member_id: 'fallback',
    member_kind: 'session',
    display_name: 'Fallback',
  });
  assert.equal(fb.session_id, 'fallback');
  const human = await ok('POST', '/v1/projects/p20/members', {
    member_id: 'h',
    member_kind: 'human_actor',
    display_name: 'H',
  });
  assert.equal(human.actor_id, 'h');
  const members = await ok('GET', '/v1/projects/p20/members');
  assert.deepEqual(
    members.map((m: any) => m.member_id),
    ['m-s20', 'lead', 'fallback', 'h'],
  );
  // A live agent resolves to its session.
  const agentSession = await ok('GET', '/v1/sessions/fallback');
  await ok('DELETE', '/v1/projects/p20/members/fallback');
  const byAgent = await ok('POST', '/v1/projects/p20/members', {
    member_id: 'agent',
    member_kind: 'session',
    display_name: 'Agent',
    agent_id: agentSession.agent_id,
  });
  assert.equal(byAgent.session_id, 'fallback');
  assert.equal(byAgent.agent_id, agentSession.agent_id);
});

test('api-collab #21: assignment with zero or two ids is 400; a human_actor assignee is rejected', async () => {
  await project('p21', ['s21']);
  const before = await snapshot('p21');
  for (const assignment of [{}, { assignee_member_id: 'm-s21', assignee_session_id: 's21' }])
    assertProblem(
      await http(base(), 'POST', '/v1/projects/p21/tasks', { title: 't', assignment }),
      400,
      'projects',
      'invalid_assignment',
    );
  assertProblem(
    await http(base(), 'POST', '/v1/projects/p21/tasks', {
      title: 't',
      assignment: { assignee_member_id: 'lead' },
    }),
    400,
    'projects',
    'assignee_not_session_backed',
  );
  assertProblem(
    await http(base(), 'POST', '/v1/projects/p21/tasks', {
      title: 't',
      assignment: { assignee_member_id: 'nobody' },
    }),
    400,
    'projects',
    'assignee_not_found',
  );
  assertProblem(await http(base(), 'POST', '/v1/projects/p21/tasks', { description: 'no title' }), 400);
  assert.deepEqual(await snapshot('p21'), before, 'nothing half-written');
  // By session id, and by live agent id.
  const bySession = await task('p21', {
    project_task_id: 'a',
    title: 'A',
    assignment: { assignee_session_id: 's21' },
  });
  assert.equal(bySession.assignee_member_id, 'm-s21');
  assert.equal(bySession.primary_session_id, 's21');
  assert.equal(bySession.status, 'pending');
  const agent = (await ok('GET', '/v1/sessions/s21')).agent_id;
  const byAgent = await task('p21', {
    project_task_id: 'b',
    title: 'B',
    assignment: { assignee_agent_id: agent },
  });
  assert.equal(byAgent.assignee_member_id, 'm-s21');
});

test('api-collab #22: blocked_by with itself, a cycle or an unknown id is rejected; duplicates are dropped', async () => {
  await project('p22', ['s22']);
  await task('p22', { project_task_id: 'a', title: 'A' });
  const b = await task('p22', { project_task_id: 'b', title: 'B', blocked_by: ['a', 'a'] });
  assert.deepEqual(b.blocked_by, ['a']);
  await task('p22', { project_task_id: 'c', title: 'C', blocked_by: ['b'] });
  const before = await snapshot('p22');
  assertProblem(
    await http(base(), 'POST', '/v1/projects/p22/tasks', {
      project_task_id: 'self',
      title: 'S',
      blocked_by: ['self'],
    }),
    400,
    'projects',
    'dependency_cycle',
  );
  assertProblem(
    await http(base(), 'POST', '/v1/projects/p22/tasks', { title: 'U', blocked_by: ['a', 'zzz'] }),
    400,
    'projects',
    'dependency_not_found',
  );
  // a -> c -> b -> a would close a cycle.
  const cyc = await http(base(), 'PUT', '/v1/projects/p22/tasks/a', { blocked_by: ['c'] });
  assertProblem(cyc, 400, 'projects', 'dependency_cycle');
  assert.match(cyc.body.detail, /a -> c -> b -> a/);
  assertProblem(
    await http(base(), 'PUT', '/v1/projects/p22/tasks/a', { blocked_by: ['a'] }),
    400,
    'projects',
    'dependency_cycle',
  );
  assert.deepEqual(await snapshot('p22'), before, 'nothing half-written');
});

test('api-collab #23 (first half): discussion_channel_id without the thread root, or the reverse, is 400', async () => {
  await project('p23', []);
  for (const body of [
    { title: 't', discussion_channel_id: 'room' },
    { title: 't', discussion_thread_root_message_id: 'msg-1' },
  ])
    assertProblem(
      await http(base(), 'POST', '/v1/projects/p23/tasks', body),
      400,
      'projects',
      'invalid_discussion',
    );
  assert.deepEqual(await ok('GET', '/v1/projects/p23/tasks'), []);
});

test('api-collab #24: creating a task in a project that is not active is rejected', async () => {
  for (const status of ['paused', 'completed', 'archived']) {
    await ok('POST', '/v1/projects', { project_id: `p24-${status}`, display_name: status, status }, 201);
    assertProblem(
      await http(base(), 'POST', `/v1/projects/p24-${status}/tasks`, { title: 't' }),
      409,
      'projects',
      'project_not_active',
    );
    assert.deepEqual(await ok('GET', `/v1/projects/p24-${status}/tasks`), []);
  }
});

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
  const [row] = await queryState(d, 'SELECT model, request FROM runs WHERE run_id = ?', [run.run_id]);
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
