// Projects conformance, records (api-collab §2.1–2.7; checklist #16, #20–#24 and decisions 372,
// 374 of docs/decisions.md): projects, members, tasks with assignment and dependencies, each
// refusal typed and writing nothing. Starts and guards are in api-collab-projects-start.test.ts,
// linked channels in api-collab-projects-channels.test.ts. Both stores (KHEISH_TEST_STORE=postgres).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { http } from '../helpers/daemon.ts';
import { projectsDaemon } from './projects-support.ts';
import { assertProblem, createSession } from './support.ts';

const { base, ok, project, task, snapshot } = projectsDaemon();

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
  // The list filter by member session.
  assert.deepEqual(
    (await ok('GET', '/v1/projects?member_session_id=fallback')).map((p: any) => p.project_id),
    ['p20'],
  );
  // The page envelope, like other lists.
  const page = await ok('GET', '/v1/projects?page=true&limit=1');
  assert.equal(page.items.length, 1);
  assert.equal(page.pagination.has_more, true);
  const next = await ok('GET', `/v1/projects?cursor=${page.pagination.next_cursor}&limit=1`);
  assert.notEqual(next.items[0].project_id, page.items[0].project_id);
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
