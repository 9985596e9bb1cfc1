// Projects with linked channels (api-collab §2.5, §2.8 discussion threads, §2.9; checklist #15,
// #17–#19, #23, #27 link removal): links must exist, one default, mirrored rosters reconciled on
// later mutations, a task created from a channel thread, kickoff threads by `project-control`, and
// the delete guards. Runs on both stores (KHEISH_TEST_STORE=postgres).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon, waitForRun } from '../helpers/daemon.ts';
import { assertProblem, createSession } from './support.ts';

let d: TestDaemon;
const base = () => d.url;

before(async () => {
  d = await startDaemon({ script: { default: { turns: [{ text: 'done here' }] } } });
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

/** A channel whose only member is the human `alice` (so no agent takes a public turn). */
const channel = (id: string) =>
  ok(
    'POST',
    '/v1/channels',
    {
      channel_id: id,
      title: `Room ${id}`,
      members: [{ member_id: 'alice', member_kind: 'human_actor', display_name: 'Alice' }],
    },
    201,
  );
const roster = async (cid: string) =>
  ((await ok('GET', `/v1/channels/${cid}/members`)).members as any[]).map((m) => m.member_id).sort();
const snapshot = async (pid: string) => ({
  project: await ok('GET', `/v1/projects/${pid}`),
  tasks: await ok('GET', `/v1/projects/${pid}/tasks`),
  events: await ok('GET', `/v1/projects/${pid}/events?limit=1000`),
});

test('api-collab #17: a project linking a channel that does not exist is rejected and not created', async () => {
  await channel('real');
  assertProblem(
    await http(base(), 'POST', '/v1/projects', {
      project_id: 'p17',
      display_name: 'P17',
      channel_links: [{ channel_id: 'real' }, { channel_id: 'ghost' }],
    }),
    400,
    'projects',
    'channel_not_found',
  );
  assertProblem(await http(base(), 'GET', '/v1/projects/p17'), 404);
  await ok('POST', '/v1/projects', { project_id: 'p17', display_name: 'P17' }, 201);
  assertProblem(
    await http(base(), 'POST', '/v1/projects/p17/channels', { channel_id: 'ghost' }),
    400,
    'projects',
    'channel_not_found',
  );
  assert.deepEqual(await ok('GET', '/v1/projects/p17/channels'), []);
});

test('api-collab #18: with two links and no default the first is the default; setting another clears it; removal promotes', async () => {
  await channel('a18');
  await channel('b18');
  await channel('c18');
  const p = await ok(
    'POST',
    '/v1/projects',
    { project_id: 'p18', display_name: 'P18', channel_links: [{ channel_id: 'a18' }, { channel_id: 'b18' }] },
    201,
  );
  const defaults = (links: any[]) => links.filter((l) => l.default_for_new_tasks).map((l) => l.channel_id);
  assert.deepEqual(defaults(p.channel_links), ['a18']);
  assert.deepEqual(
    (await ok('GET', '/v1/projects?channel_id=b18')).map((x: any) => x.project_id),
    ['p18'],
  );
  await ok('POST', '/v1/projects/p18/channels', {
    channel_id: 'b18',
    default_for_new_tasks: true,
    role: 'main',
  });
  assert.deepEqual(defaults(await ok('GET', '/v1/projects/p18/channels')), ['b18']);
  await ok('POST', '/v1/projects/p18/channels', { channel_id: 'c18' });
  // Removing the default promotes the first remaining link.
  await ok('DELETE', '/v1/projects/p18/channels/b18');
  const left = await ok('GET', '/v1/projects/p18/channels');
  assert.deepEqual(
    left.map((l: any) => l.channel_id),
    ['a18', 'c18'],
  );
  assert.deepEqual(defaults(left), ['a18']);
  assertProblem(
    await http(base(), 'POST', '/v1/projects', {
      display_name: 'Two defaults',
      channel_links: [
        { channel_id: 'a18', default_for_new_tasks: true },
        { channel_id: 'b18', default_for_new_tasks: true },
      ],
    }),
    400,
    'projects',
    'invalid_channel_link',
  );
  assertProblem(
    await http(base(), 'DELETE', '/v1/projects/p18/channels/zzz'),
    404,
    'projects',
    'project_channel_link_not_found',
  );
});

test('api-collab #19: with mirror_members each member is in the roster as project:{project}:{member}, reconciled later', async () => {
  await channel('room19');
  await createSession(base(), 's19');
  await ok(
    'POST',
    '/v1/projects',
    {
      project_id: 'p19',
      display_name: 'P19',
      members: [
        { member_id: 'worker', member_kind: 'session', display_name: 'Worker', session_id: 's19' },
        { member_id: 'lead', member_kind: 'human_actor', display_name: 'Lead' },
      ],
      channel_links: [{ channel_id: 'room19', mirror_members: true }],
    },
    201,
  );
  assert.deepEqual(await roster('room19'), ['alice', 'project:p19:lead', 'project:p19:worker']);
  const worker = ((await ok('GET', '/v1/channels/room19/members')).members as any[]).find(
    (m) => m.member_id === 'project:p19:worker',
  );
  assert.equal(worker.member_kind, 'session');
  assert.equal(worker.session_id, 's19');
  // Later mutations reconcile: a new member appears, a removed one goes.
  await ok('POST', '/v1/projects/p19/members', {
    member_id: 'qa',
    member_kind: 'human_actor',
    display_name: 'QA',
  });
  await ok('DELETE', '/v1/projects/p19/members/lead');
  assert.deepEqual(await roster('room19'), ['alice', 'project:p19:qa', 'project:p19:worker']);
  // Mirroring switched off removes the mirrored entries, and only those.
  await ok('POST', '/v1/projects/p19/channels', { channel_id: 'room19', mirror_members: false });
  assert.deepEqual(await roster('room19'), ['alice']);
});

test('api-collab #23 (second half): a discussion channel not linked to the project is rejected; a task is created from a thread', async () => {
  await channel('linked23');
  await channel('other23');
  await createSession(base(), 's23');
  await ok(
    'POST',
    '/v1/projects',
    {
      project_id: 'p23c',
      display_name: 'P23',
      members: [{ member_id: 'w', member_kind: 'session', display_name: 'W', session_id: 's23' }],
      channel_links: [{ channel_id: 'linked23' }],
    },
    201,
  );
  const q = await ok(
    'POST',
    '/v1/channels/linked23/messages',
    { sender_actor_id: 'alice', content: 'Who checks the routes?' },
    201,
  );
  const elsewhere = await ok(
    'POST',
    '/v1/channels/other23/messages',
    { sender_actor_id: 'alice', content: 'x' },
    201,
  );
  const before = await snapshot('p23c');
  assertProblem(
    await http(base(), 'POST', '/v1/projects/p23c/tasks', {
      title: 't',
      discussion_channel_id: 'other23',
      discussion_thread_root_message_id: elsewhere.message_id,
    }),
    400,
    'projects',
    'discussion_channel_not_linked',
  );
  assertProblem(
    await http(base(), 'POST', '/v1/projects/p23c/tasks', {
      title: 't',
      discussion_channel_id: 'linked23',
      discussion_thread_root_message_id: 'no-such-message',
    }),
    400,
    'projects',
    'discussion_thread_not_found',
  );
  assert.deepEqual(await snapshot('p23c'), before);

  // From the thread: the start reuses it (no kickoff post) and the task completes.
  const t = await ok(
    'POST',
    '/v1/projects/p23c/tasks',
    {
      project_task_id: 'routes',
      title: 'Check the routes',
      assignment: { assignee_member_id: 'w' },
      discussion_channel_id: 'linked23',
      discussion_thread_root_message_id: q.message_id,
    },
    201,
  );
  assert.deepEqual(t.discussion, { channel_id: 'linked23', thread_root_message_id: q.message_id });
  const messagesBefore = (await ok('GET', '/v1/channels/linked23/messages')).messages.length;
  const run = await ok('POST', '/v1/projects/p23c/tasks/routes/start', {}, 202);
  assert.equal(run.input_metadata.kheish_project_task.discussion.thread_root_message_id, q.message_id);
  await waitForRun(base(), run.run_id);
  assert.equal(
    (await ok('GET', '/v1/channels/linked23/messages')).messages.length,
    messagesBefore,
    'thread reused, nothing posted',
  );
  assert.equal((await ok('GET', '/v1/projects/p23c/tasks/routes')).status, 'completed');

  // #27: the link of an open task's discussion cannot be removed; once the task is done it can.
  await ok('PUT', '/v1/projects/p23c/tasks/routes', { status: 'pending' });
  assertProblem(
    await http(base(), 'DELETE', '/v1/projects/p23c/channels/linked23'),
    409,
    'projects',
    'channel_link_in_use',
  );
  await ok('PUT', '/v1/projects/p23c/tasks/routes', { status: 'completed' });
  await ok('DELETE', '/v1/projects/p23c/channels/linked23');
});

test('api-collab §2.8: without a thread the start posts a kickoff thread by project-control in the default linked channel', async () => {
  await channel('kick');
  await channel('side');
  await createSession(base(), 'skick');
  await ok(
    'POST',
    '/v1/projects',
    {
      project_id: 'pkick',
      display_name: 'Kick',
      members: [{ member_id: 'w', member_kind: 'session', display_name: 'W', session_id: 'skick' }],
      channel_links: [{ channel_id: 'side' }, { channel_id: 'kick', default_for_new_tasks: true }],
    },
    201,
  );
  await ok(
    'POST',
    '/v1/projects/pkick/tasks',
    {
      project_task_id: 'k1',
      title: 'Draft notes',
      description: 'Short.',
      assignment: { assignee_member_id: 'w' },
    },
    201,
  );
  const run = await ok(
    'POST',
    '/v1/projects/pkick/tasks/k1/start',
    { kickoff_message: 'Starting the notes.' },
    202,
  );
  const task = await ok('GET', '/v1/projects/pkick/tasks/k1');
  assert.equal(task.discussion.channel_id, 'kick');
  const root = await ok('GET', `/v1/channels/kick/messages/${task.discussion.thread_root_message_id}`);
  assert.equal(root.sender.actor_id, 'project-control');
  assert.match(JSON.stringify(root), /Starting the notes\./);
  assert.equal(
    (await ok('GET', '/v1/channels/side/messages')).messages.length,
    0,
    'only the default channel',
  );
  await waitForRun(base(), run.run_id);
  // A second start (reopened) reuses that thread instead of posting another kickoff.
  await ok('PUT', '/v1/projects/pkick/tasks/k1', { status: 'pending' });
  const again = await ok('POST', '/v1/projects/pkick/tasks/k1/start', {}, 202);
  await waitForRun(base(), again.run_id);
  const roots = ((await ok('GET', '/v1/channels/kick/messages')).messages as any[]).filter(
    (m) => m.message_id === m.thread_root_message_id,
  );
  assert.equal(roots.length, 1);
});

test('api-collab #15: deleting a channel a project links is 409 and the channel stays; unlinked it can go', async () => {
  await channel('keep15');
  await ok(
    'POST',
    '/v1/projects',
    { project_id: 'p15', display_name: 'P15', channel_links: [{ channel_id: 'keep15' }] },
    201,
  );
  const res = await http(base(), 'DELETE', '/v1/channels/keep15');
  assertProblem(res, 409);
  assert.match(res.body.detail, /p15/);
  await ok('GET', '/v1/channels/keep15');
  await ok('DELETE', '/v1/projects/p15/channels/keep15');
  await ok('DELETE', '/v1/channels/keep15');
  assertProblem(await http(base(), 'GET', '/v1/channels/keep15'), 404);
});
