// api-core §1.6 for resolutions (the checklist's #36-#38 cover only `/runs`): approvals, answers
// and question cancels accept an idempotency key; the same key with the same request replays the
// first answer, with another request on the same run it is 409 idempotency/idempotency_conflict
// and nothing is applied; a header/body mismatch or an empty key is 400.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon, waitForRun } from '../helpers/daemon.ts';
import { assertProblem } from './support.ts';

const question = (id: string) => ({
  name: 'ask_user_question',
  arguments: {
    questions: [
      {
        id,
        header: 'Route',
        question: 'Which provider?',
        options: [
          { id: 'openai', label: 'OpenAI' },
          { id: 'anthropic', label: 'Anthropic' },
        ],
      },
    ],
  },
});
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
      match: 'twice',
      turns: [{ tool_calls: [question('first')] }, { tool_calls: [question('second')] }, { text: 'both' }],
    },
    { match: 'ask', turns: [{ tool_calls: [question('routing')] }, { text: 'thanks' }] },
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
  const session = `idem${++n}`;
  await http(d.url, 'POST', '/v1/sessions', { session_id: session });
  const run = (await http(d.url, 'POST', `/v1/sessions/${session}/runs`, { content })).body;
  return { session, run: await waitForRun(d.url, run.run_id, (r) => r.status === status) };
}

const eventTypes = async (runId: string): Promise<string[]> =>
  (await http(d.url, 'GET', `/v1/runs/${runId}/events`)).body.map(
    (e: { event: { type: string } }) => e.event.type,
  );
const count = (types: string[], type: string) => types.filter((t) => t === type).length;
const key = (k: string) => ({ 'idempotency-key': k });

test('api-core §1.6 approvals: the same key and batch replays; the same key with another batch is 409 idempotency_conflict', async () => {
  const { session, run } = await parked('approve with a key', 'waiting_for_approval');
  const batch = (behavior: string) => ({
    resolutions: run.pending_approval_ids.map((id: string) => ({ request_id: id, behavior })),
  });
  const first = await http(
    d.url,
    'POST',
    `/v1/runs/${run.run_id}/approvals`,
    batch('allow'),
    key('approve-1'),
  );
  assert.equal(first.status, 202, first.text);
  assert.equal((await waitForRun(d.url, run.run_id)).status, 'completed');

  const retry = await http(
    d.url,
    'POST',
    `/v1/runs/${run.run_id}/approvals`,
    batch('allow'),
    key('approve-1'),
  );
  assert.equal(retry.status, 202, `a retry gets the run again: ${retry.text}`);
  assert.equal(retry.body.run_id, run.run_id);

  const other = await http(
    d.url,
    'POST',
    `/v1/runs/${run.run_id}/approvals`,
    batch('deny'),
    key('approve-1'),
  );
  assertProblem(other, 409, 'idempotency', 'idempotency_conflict', 'header key, other batch');
  const inBody = await http(d.url, 'POST', `/v1/runs/${run.run_id}/approvals`, {
    ...batch('deny'),
    idempotency_key: 'approve-1',
  });
  assertProblem(inBody, 409, 'idempotency', 'idempotency_conflict', 'body key, other batch');
  const viaSession = await http(
    d.url,
    'POST',
    `/v1/sessions/${session}/approvals`,
    batch('deny'),
    key('approve-1'),
  );
  assertProblem(viaSession, 409, 'idempotency', 'idempotency_conflict', 'session endpoint, other batch');

  const types = await eventTypes(run.run_id);
  assert.equal(count(types, 'approval_resolved'), 1, 'only the first batch was applied');
});

test('api-core §1.6 approvals: a key already used on the run for part of its approvals cannot resolve the rest', async () => {
  const { run } = await parked('approve in two steps', 'waiting_for_approval');
  const [a, b] = run.pending_approval_ids as string[];
  const one = await http(d.url, 'POST', `/v1/runs/${run.run_id}/approvals`, {
    idempotency_key: 'step',
    resolutions: [{ request_id: a, behavior: 'allow' }],
  });
  assert.equal(one.status, 202, one.text);
  assert.equal(one.body.status, 'waiting_for_approval');

  const reuse = await http(d.url, 'POST', `/v1/runs/${run.run_id}/approvals`, {
    idempotency_key: 'step',
    resolutions: [{ request_id: b, behavior: 'allow' }],
  });
  assertProblem(reuse, 409, 'idempotency', 'idempotency_conflict', 'the key of the first half');
  const still = (await http(d.url, 'GET', `/v1/runs/${run.run_id}`)).body;
  assert.equal(still.status, 'waiting_for_approval');
  assert.deepEqual(still.pending_approval_ids, [b], 'nothing of the refused batch was applied');

  const fresh = await http(d.url, 'POST', `/v1/runs/${run.run_id}/approvals`, {
    idempotency_key: 'step-2',
    resolutions: [{ request_id: b, behavior: 'allow' }],
  });
  assert.equal(fresh.status, 202, fresh.text);
  assert.equal((await waitForRun(d.url, run.run_id)).status, 'completed');
});

test('api-core §1.6 approvals: header and body keys that differ, or an empty key, are 400 invalid_idempotency_key', async () => {
  const { run } = await parked('approve with bad keys', 'waiting_for_approval');
  const body = { resolutions: [{ request_id: run.pending_approval_ids[0], behavior: 'allow' }] };
  const differ = await http(
    d.url,
    'POST',
    `/v1/runs/${run.run_id}/approvals`,
    { ...body, idempotency_key: 'b' },
    key('a'),
  );
  assertProblem(differ, 400, 'idempotency', 'invalid_idempotency_key', 'header a, body b');
  const empty = await http(d.url, 'POST', `/v1/runs/${run.run_id}/approvals`, {
    ...body,
    idempotency_key: ' ',
  });
  assertProblem(empty, 400, 'idempotency', 'invalid_idempotency_key', 'empty body key');
  const still = (await http(d.url, 'GET', `/v1/runs/${run.run_id}`)).body;
  assert.equal(still.pending_approval_ids.length, 2, 'nothing applied');
});

test('api-core §1.6 questions: the same key and answer replays; the same key with another answer is 409 idempotency_conflict', async () => {
  const { session, run } = await parked('ask with a key', 'waiting_for_user_question');
  const id = run.pending_question_ids[0];
  const reply = (option: string) => ({
    resolution: { request_id: id, answers: [{ question_id: 'routing', selected_option_ids: [option] }] },
  });
  const first = await http(
    d.url,
    'POST',
    `/v1/runs/${run.run_id}/questions`,
    reply('openai'),
    key('answer-1'),
  );
  assert.equal(first.status, 202, first.text);
  assert.equal((await waitForRun(d.url, run.run_id)).status, 'completed');

  const retry = await http(
    d.url,
    'POST',
    `/v1/runs/${run.run_id}/questions`,
    reply('openai'),
    key('answer-1'),
  );
  assert.equal(retry.status, 202, `a retry gets the run again: ${retry.text}`);
  const other = await http(
    d.url,
    'POST',
    `/v1/runs/${run.run_id}/questions`,
    reply('anthropic'),
    key('answer-1'),
  );
  assertProblem(other, 409, 'idempotency', 'idempotency_conflict', 'other answer');
  const viaSession = await http(d.url, 'POST', `/v1/sessions/${session}/questions`, {
    ...reply('anthropic'),
    idempotency_key: 'answer-1',
  });
  assertProblem(viaSession, 409, 'idempotency', 'idempotency_conflict', 'session endpoint, other answer');
  const differ = await http(
    d.url,
    'POST',
    `/v1/runs/${run.run_id}/questions`,
    { ...reply('openai'), idempotency_key: 'b' },
    key('a'),
  );
  assertProblem(differ, 400, 'idempotency', 'invalid_idempotency_key', 'header a, body b');

  const types = await eventTypes(run.run_id);
  assert.equal(count(types, 'user_question_resolved'), 1, 'only the first answer was applied');
});

test('api-core §1.6 questions: a key used for one question of a run cannot answer its next question', async () => {
  const { run } = await parked('ask twice', 'waiting_for_user_question');
  const firstId = run.pending_question_ids[0];
  const one = await http(d.url, 'POST', `/v1/runs/${run.run_id}/questions`, {
    idempotency_key: 'q-key',
    resolution: { request_id: firstId, answers: [{ question_id: 'first', selected_option_ids: ['openai'] }] },
  });
  assert.equal(one.status, 202, one.text);
  const next = await waitForRun(
    d.url,
    run.run_id,
    (r) => r.status === 'waiting_for_user_question' && r.pending_question_ids[0] !== firstId,
  );
  const secondId = next.pending_question_ids[0];
  const secondAnswer = {
    request_id: secondId,
    answers: [{ question_id: 'second', selected_option_ids: ['anthropic'] }],
  };
  const reuse = await http(d.url, 'POST', `/v1/runs/${run.run_id}/questions`, {
    idempotency_key: 'q-key',
    resolution: secondAnswer,
  });
  assertProblem(reuse, 409, 'idempotency', 'idempotency_conflict', 'the key of the first question');
  assert.deepEqual((await http(d.url, 'GET', `/v1/runs/${run.run_id}`)).body.pending_question_ids, [
    secondId,
  ]);

  const cancelReuse = await http(d.url, 'POST', `/v1/runs/${run.run_id}/questions/${secondId}/cancel`, {
    idempotency_key: 'q-key',
  });
  assertProblem(cancelReuse, 409, 'idempotency', 'idempotency_conflict', 'a cancel under the answer key');
  assert.equal((await http(d.url, 'GET', `/v1/runs/${run.run_id}`)).body.status, 'waiting_for_user_question');

  const fresh = await http(d.url, 'POST', `/v1/runs/${run.run_id}/questions`, {
    idempotency_key: 'q-key-2',
    resolution: secondAnswer,
  });
  assert.equal(fresh.status, 202, fresh.text);
  assert.equal((await waitForRun(d.url, run.run_id)).status, 'completed');
});

test('api-core §1.6 question cancel: the key is validated, a retry replays, and the key cannot then answer', async () => {
  const { run } = await parked('ask then cancel', 'waiting_for_user_question');
  const id = run.pending_question_ids[0];
  const path = `/v1/runs/${run.run_id}/questions/${id}/cancel`;
  const differ = await http(d.url, 'POST', path, { idempotency_key: 'b' }, key('a'));
  assertProblem(differ, 400, 'idempotency', 'invalid_idempotency_key', 'header a, body b');
  const empty = await http(d.url, 'POST', path, {}, key(''));
  assertProblem(empty, 400, 'idempotency', 'invalid_idempotency_key', 'empty header');
  assert.equal((await http(d.url, 'GET', `/v1/runs/${run.run_id}`)).body.status, 'waiting_for_user_question');

  const first = await http(d.url, 'POST', path, {}, key('cancel-1'));
  assert.equal(first.status, 200, first.text);
  assert.equal(first.body.status, 'cancelled');
  const retry = await http(d.url, 'POST', path, {}, key('cancel-1'));
  assert.equal(retry.status, 200, retry.text);
  assert.equal(retry.body.status, 'cancelled');
  const answerReuse = await http(
    d.url,
    'POST',
    `/v1/runs/${run.run_id}/questions`,
    {
      resolution: { request_id: id, answers: [{ question_id: 'routing', selected_option_ids: ['openai'] }] },
    },
    key('cancel-1'),
  );
  assertProblem(answerReuse, 409, 'idempotency', 'idempotency_conflict', 'an answer under the cancel key');
  assert.equal(count(await eventTypes(run.run_id), 'cancelled'), 1);
});
