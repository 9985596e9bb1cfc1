// api-core §15 items 59–65: structured questions and approvals, through a real daemon. The
// scripted model calls `bash` (approval required in the default mode) or `ask_user_question`.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon, waitForRun } from '../helpers/daemon.ts';

const questionCall = {
  name: 'ask_user_question',
  arguments: {
    questions: [
      {
        id: 'routing',
        header: 'Route',
        question: 'Which provider?',
        options: [
          { id: 'openai', label: 'OpenAI' },
          { id: 'anthropic', label: 'Anthropic' },
        ],
      },
      { id: 'notes', header: 'Notes', question: 'Anything else?', options: [] },
    ],
  },
};
const script = {
  rules: [
    {
      match: 'approve',
      turns: [
        {
          tool_calls: [
            { name: 'bash', arguments: { command: 'echo hi' } },
            { name: 'write_file', arguments: { path: 'a', content: 'b' } },
          ],
        },
        { text: 'done' },
      ],
    },
    {
      match: 'expire',
      turns: [
        {
          tool_calls: [{ ...questionCall, arguments: { ...questionCall.arguments, expires_after_ms: 300 } }],
        },
        { text: 'never' },
      ],
    },
    { match: 'ask', turns: [{ tool_calls: [questionCall] }, { text: 'thanks' }] },
  ],
  default: { turns: [{ text: 'ok' }] },
};

let d: TestDaemon;
let n = 0;
before(async () => {
  d = await startDaemon({ script });
});
after(async () => {
  await d.kill();
  await d.cleanup();
});

async function parked(content: string, status: string) {
  const session = `q${++n}`;
  await http(d.url, 'POST', '/v1/sessions', { session_id: session });
  const run = (await http(d.url, 'POST', `/v1/sessions/${session}/runs`, { content })).body;
  return { session, run: await waitForRun(d.url, run.run_id, (r) => r.status === status) };
}

const statuses = async (runId: string) =>
  (await http(d.url, 'GET', `/v1/runs/${runId}/events`)).body.map(
    (e: { event: { type: string } }) => e.event.type,
  );

test('api-core #59: GET /v1/questions lists pending requests of runs waiting for a question', async () => {
  const { session, run } = await parked('ask me', 'waiting_for_user_question');
  const list = await http(d.url, 'GET', '/v1/questions');
  const mine = list.body.filter((q: { run_id: string }) => q.run_id === run.run_id);
  assert.equal(mine.length, 1);
  assert.equal(mine[0].session_id, session);
  assert.ok(mine[0].agent_id);
  assert.equal(mine[0].request.questions.length, 2);
  assert.deepEqual(run.pending_question_ids, [mine[0].request.id]);
  const page = await http(d.url, 'GET', `/v1/sessions/${session}/questions?page=true`);
  assert.equal(page.body.items.length, 1);
  // Only runs waiting for a question contribute: not one waiting for an approval.
  const other = await parked('approve, not ask', 'waiting_for_approval');
  const again = (await http(d.url, 'GET', '/v1/questions')).body as Array<{ run_id: string }>;
  assert.ok(!again.some((q) => q.run_id === other.run.run_id), 'a run waiting for approval asks nothing');
  await http(d.url, 'POST', `/v1/runs/${other.run.run_id}/cancel`);
});

test('api-core #60/#61/#62: answer validation, state conflict, 202 RunView and 200 SessionView', async () => {
  const { session, run } = await parked('ask again', 'waiting_for_user_question');
  const id = run.pending_question_ids[0];
  const post = (body: unknown) => http(d.url, 'POST', `/v1/runs/${run.run_id}/questions`, body);
  const cases: Array<[unknown, string]> = [
    [
      {
        request_id: id,
        answers: [
          { question_id: 'routing', selected_option_ids: ['nope'] },
          { question_id: 'notes', freeform_answer: 'x' },
        ],
      },
      'question_option_not_found',
    ],
    [
      { request_id: id, declined: true, answers: [{ question_id: 'notes', freeform_answer: 'x' }] },
      'question_declined_with_answers',
    ],
    [
      {
        request_id: id,
        answers: [
          { question_id: 'routing', selected_option_ids: ['openai', 'anthropic'] },
          { question_id: 'notes', freeform_answer: 'x' },
        ],
      },
      'question_single_select_violation',
    ],
    [
      { request_id: id, answers: [{ question_id: 'routing', selected_option_ids: ['openai'] }] },
      'question_answer_missing',
    ],
    [{ request_id: 'question-other', answers: [] }, 'question_request_mismatch'],
    [
      {
        request_id: id,
        answers: [{ question_id: 'routing', selected_option_ids: ['openai'] }, { question_id: 'notes' }],
      },
      'question_answer_empty',
    ],
  ];
  for (const [resolution, code] of cases) {
    const r = await post({ resolution });
    assert.equal(r.status, 400, `${code}: ${r.text}`);
    assert.deepEqual([r.body.domain, r.body.code], ['questions', code]);
  }
  assert.equal((await http(d.url, 'GET', `/v1/runs/${run.run_id}`)).body.status, 'waiting_for_user_question');
  const good = {
    resolution: {
      request_id: id,
      answers: [
        { question_id: 'routing', selected_option_ids: ['openai'] },
        { question_id: 'notes', freeform_answer: 'fast path' },
      ],
    },
  };
  const ok = await post(good);
  assert.equal(ok.status, 202);
  assert.equal(ok.body.run_id, run.run_id);
  const done = await waitForRun(d.url, run.run_id);
  assert.equal(done.status, 'completed');
  assert.deepEqual(
    done.outputs.map((o: { content: string }) => o.content),
    ['thanks'],
  );
  const again = await post({
    resolution: {
      ...good.resolution,
      answers: [
        { question_id: 'routing', selected_option_ids: ['anthropic'] },
        { question_id: 'notes', freeform_answer: 'y' },
      ],
    },
  });
  assert.equal(again.status, 409);
  assert.equal(again.body.code, 'question_state_conflict');
  const viaSession = await parked('ask a third time', 'waiting_for_user_question');
  const s = await http(d.url, 'POST', `/v1/sessions/${viaSession.session}/questions`, {
    resolution: { request_id: viaSession.run.pending_question_ids[0], declined: true, answers: [] },
  });
  assert.equal(s.status, 200);
  assert.equal(s.body.session_id, viaSession.session);
  assert.ok(s.body.snapshot && Array.isArray(s.body.outputs));
  assert.equal((await waitForRun(d.url, viaSession.run.run_id)).status, 'completed');
  assert.ok(session);
});

test('api-core #63: cancelling a stale question id is refused and the run keeps waiting; the right id cancels', async () => {
  const { run } = await parked('ask to cancel', 'waiting_for_user_question');
  const stale = await http(d.url, 'POST', `/v1/runs/${run.run_id}/questions/question-stale/cancel`);
  assert.equal(stale.status, 400);
  assert.equal((await http(d.url, 'GET', `/v1/runs/${run.run_id}`)).body.status, 'waiting_for_user_question');
  const ok = await http(
    d.url,
    'POST',
    `/v1/runs/${run.run_id}/questions/${run.pending_question_ids[0]}/cancel`,
    {},
  );
  assert.equal(ok.status, 200);
  assert.equal(ok.body.status, 'cancelled');
});

test('api-core #64: empty and partly unknown approval batches are refused whole', async () => {
  const { run } = await parked('approve this', 'waiting_for_approval');
  assert.equal(run.pending_approvals.length, 2);
  assert.deepEqual(run.pending_approvals.map((a: { tool_name: string }) => a.tool_name).sort(), [
    'bash',
    'write_file',
  ]);
  assert.deepEqual(run.pending_approvals.find((a: { tool_name: string }) => a.tool_name === 'bash').input, {
    command: 'echo hi',
  });
  const empty = await http(d.url, 'POST', `/v1/runs/${run.run_id}/approvals`, { resolutions: [] });
  assert.deepEqual(
    [empty.status, empty.body.domain, empty.body.code],
    [400, 'approvals', 'approval_batch_empty'],
  );
  const mixed = await http(d.url, 'POST', `/v1/runs/${run.run_id}/approvals`, {
    resolutions: [
      { request_id: run.pending_approval_ids[0], behavior: 'allow' },
      { request_id: 'approval-unknown', behavior: 'allow' },
    ],
  });
  assert.deepEqual([mixed.status, mixed.body.code], [400, 'approval_request_not_pending']);
  const still = (await http(d.url, 'GET', `/v1/runs/${run.run_id}`)).body;
  assert.equal(still.status, 'waiting_for_approval');
  assert.equal(still.pending_approval_ids.length, 2);
  const dup = await http(d.url, 'POST', `/v1/runs/${run.run_id}/approvals`, {
    resolutions: [
      { request_id: run.pending_approval_ids[0], behavior: 'allow' },
      { request_id: run.pending_approval_ids[0], behavior: 'deny' },
    ],
  });
  assert.deepEqual([dup.status, dup.body.code], [400, 'approval_duplicate_resolution']);
});

test('api-core #65: allowing every pending approval resumes the run: running after waiting_for_approval, then completed', async () => {
  const { run } = await parked('approve me', 'waiting_for_approval');
  const batch = {
    resolutions: run.pending_approval_ids.map((id: string) => ({
      request_id: id,
      behavior: 'allow',
      justification: 'ok',
    })),
  };
  const [a, b] = await Promise.all([
    http(d.url, 'POST', `/v1/runs/${run.run_id}/approvals`, batch),
    http(d.url, 'POST', `/v1/runs/${run.run_id}/approvals`, batch),
  ]);
  assert.deepEqual(
    [a.status, b.status],
    [202, 202],
    'two identical concurrent approvals get the same answer',
  );
  const done = await waitForRun(d.url, run.run_id);
  assert.equal(done.status, 'completed');
  const types = await statuses(run.run_id);
  const waitAt = types.indexOf('waiting_for_approval');
  assert.ok(waitAt > 0);
  assert.equal(types.filter((t: string) => t === 'approval_resolved').length, 1, 'one resolution applied');
  assert.equal(types.filter((t: string) => t === 'started').length, 2, 'started once, resumed once');
  assert.ok(
    types.indexOf('started', waitAt) > waitAt &&
      types.indexOf('started', waitAt) < types.indexOf('completed'),
  );
});

test('a denied call gets an error result and the run goes on; the session endpoint returns the SessionView', async () => {
  const { session, run } = await parked('approve or not', 'waiting_for_approval');
  const r = await http(d.url, 'POST', `/v1/sessions/${session}/approvals`, {
    resolutions: run.pending_approval_ids.map((id: string) => ({
      request_id: id,
      behavior: 'deny',
      reason: 'not today',
    })),
  });
  assert.equal(r.status, 200);
  assert.equal(r.body.session_id, session);
  assert.equal((await waitForRun(d.url, run.run_id)).status, 'completed');
  const conflict = await http(d.url, 'POST', `/v1/sessions/${session}/approvals`, {
    resolutions: [{ request_id: 'approval-x', behavior: 'allow' }],
  });
  assert.equal(conflict.status, 409);
  assert.equal(conflict.body.code, 'approval_state_conflict');
});

test('permission mode and dry-run check', async () => {
  const check = await http(d.url, 'POST', '/v1/runtime/permissions/check', {
    tool_name: 'bash',
    input: { command: 'ls' },
  });
  assert.equal(check.status, 200);
  assert.deepEqual(
    [check.body.decision, check.body.hooks_evaluated, check.body.hook_policy],
    ['ask', false, 'not_executed_in_dry_run'],
  );
  const unknown = await http(d.url, 'POST', '/v1/runtime/permissions/check', {
    tool_name: 'bash',
    session_id: 'nope',
  });
  assert.deepEqual([unknown.status, unknown.body.code], [404, 'session_not_found']);
  const bad = await http(d.url, 'POST', '/v1/runtime/permission-mode', { mode: 'yolo' });
  assert.equal(bad.status, 400);
  const set = await http(d.url, 'POST', '/v1/runtime/permission-mode', { mode: 'bypassPermissions' });
  assert.equal(set.body.permission_mode, 'bypassPermissions');
  const { run } = await parked('approve', 'completed');
  assert.equal(run.status, 'completed', 'bypassPermissions allows bash without asking');
  await http(d.url, 'POST', '/v1/runtime/permission-mode', { mode: 'default' });
});

test('api-core §4.5: an expired question cancels its waiting run and answering it is refused', async () => {
  const { run } = await parked('expire soon', 'waiting_for_user_question');
  assert.ok(run.pending_questions[0].expires_at_ms > run.pending_questions[0].created_at_ms);
  const done = await waitForRun(d.url, run.run_id);
  assert.equal(done.status, 'cancelled');
  assert.match(done.error, /expired/);
  const late = await http(d.url, 'POST', `/v1/runs/${run.run_id}/questions`, {
    resolution: { request_id: run.pending_question_ids[0], declined: true, answers: [] },
  });
  assert.equal(late.status, 409);
  const listed = await http(d.url, 'GET', `/v1/questions`);
  assert.ok(!listed.body.some((q: { run_id: string }) => q.run_id === run.run_id), 'no longer pending');
});
