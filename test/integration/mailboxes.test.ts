// Mailbox delivery end to end through real daemon processes and the scripted driver: in-order,
// one-at-a-time mailbox_delivery runs; TTL → dead letter; message_agent between two sessions; and
// parent clarifications (a question on the parent's session answered through the questions API,
// and a message_agent reply_to after a crash while the child waits). Agent ids are only known once sessions exist, so the test
// creates the sessions first, then writes the script and restarts the daemon on the same state root.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { createCli } from '../../src/cli/program.ts';
import { http, readJournal, startDaemon, type TestDaemon, waitForRun } from '../helpers/daemon.ts';

interface Agent {
  session_id: string;
  agent_id: string;
}

let d: TestDaemon;
let scriptPath: string;
const agents: Record<string, Agent> = {};
const NAMES = ['a', 'b', 'p', 'c', 'p2', 'c2', 'order', 'ttl', 'sender', 'flaky', 'ended', 'boss'];

function script(extra: unknown[] = []) {
  const { b, p, p2 } = agents;
  return {
    rules: [
      ...extra,
      { match: '^hold', turns: [{ hang: true }] },
      {
        match: '^send hello',
        turns: [
          {
            tool_calls: [
              {
                name: 'message_agent',
                arguments: { to_agent_id: b!.agent_id, subject: 'hello', text: 'hi from A' },
              },
            ],
          },
          { text: 'sent' },
        ],
      },
      { match: 'subject: hello', turns: [{ text: 'got it' }] },
      {
        match: 'ask the boss for a tier',
        turns: [
          { tool_calls: [{ name: 'request_parent_clarification', arguments: { question: 'Which tier?' } }] },
          { text: 'child tier done' },
        ],
      },
      { match: 'subject: flaky', turns: [{ error: { status: 400, message: 'scripted rejection' } }] },
      { match: 'subject: step-', turns: [{ delay_ms: 60, text: 'handled' }] },
      {
        match: '^ask parent one',
        turns: [
          {
            tool_calls: [
              {
                name: 'request_parent_clarification',
                arguments: {
                  question: 'Which colour?',
                  options: [{ id: 'blue', label: 'Blue' }],
                  parent_agent_id: p!.agent_id,
                },
              },
            ],
          },
          { text: 'child one done' },
        ],
      },
      {
        match: '^ask parent briefly',
        turns: [
          {
            tool_calls: [
              {
                name: 'request_parent_clarification',
                arguments: { question: 'Quick?', expires_after_ms: 1500, parent_agent_id: p!.agent_id },
              },
            ],
          },
          { text: 'child brief done' },
        ],
      },
      {
        match: '^ask parent two',
        turns: [
          {
            tool_calls: [
              {
                name: 'request_parent_clarification',
                arguments: { question: 'Which shape?', parent_agent_id: p2!.agent_id },
              },
            ],
          },
          { text: 'child two done' },
        ],
      },
    ],
    default: { turns: [{ text: 'ok' }] },
  };
}

before(async () => {
  d = await startDaemon({ script: { default: { turns: [{ text: 'ok' }] } } });
  for (const name of NAMES) {
    const res = await http(d.url, 'POST', '/v1/sessions', { session_id: `mbx-${name}` });
    assert.equal(res.status, 201, res.text);
    agents[name] = { session_id: res.body.session_id, agent_id: res.body.agent_id };
  }
  const args = d.proc.spawnargs;
  scriptPath = join(dirname(args[args.indexOf('--routes-file') + 1]!), 'script.json');
  await restartWith(script());
});
after(async () => {
  await d.kill();
  d.cleanup();
});

async function restartWith(s: unknown, crash = false): Promise<void> {
  if (crash) await d.kill();
  else await d.stop();
  writeFileSync(scriptPath, JSON.stringify(s));
  d = await d.restart();
}

async function submit(agent: Agent, content: string): Promise<string> {
  const res = await http(d.url, 'POST', `/v1/sessions/${agent.session_id}/runs`, { content });
  assert.equal(res.status, 202, res.text);
  return res.body.run_id;
}

async function runsOf(agent: Agent, kind?: string): Promise<any[]> {
  const res = await http(d.url, 'GET', `/v1/runs?session_id=${agent.session_id}`);
  assert.equal(res.status, 200, res.text);
  return (res.body as any[]).filter((r) => kind === undefined || r.kind === kind);
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const post = (from: Agent, to: Agent, subject: string, extra: Record<string, unknown> = {}) =>
  http(d.url, 'POST', '/v1/mailboxes', {
    from_agent_id: from.agent_id,
    to_agent_id: to.agent_id,
    subject,
    ...extra,
  });

test('messages are delivered in order as mailbox_delivery runs, one at a time, each exactly once', async () => {
  const { sender, order } = agents;
  const ids: string[] = [];
  for (let i = 1; i <= 4; i++) {
    const res = await post(sender!, order!, `step-${i}`, { payload: { i } });
    assert.equal(res.status, 202, res.text);
    ids.push(res.body.message_id);
  }
  const runs = await until('four deliveries', async () => {
    const rs = await runsOf(order!, 'mailbox_delivery');
    return rs.length === 4 && rs.every((r) => r.status === 'completed') && rs;
  });
  assert.deepEqual(
    runs.map((r) => r.input_metadata.mailbox.message_id),
    ids,
    'delivery order is post order',
  );
  for (let i = 1; i < runs.length; i++)
    assert.ok(
      runs[i].started_at_ms >= runs[i - 1].finished_at_ms,
      `delivery ${i + 1} started only after delivery ${i} ended`,
    );
  for (const r of runs)
    assert.deepEqual(
      r.outputs.map((o: any) => o.content),
      ['handled'],
    );
  assert.match(runs[0].request.text_preview, /subject: step-1/);
  assert.deepEqual((await http(d.url, 'GET', `/v1/agents/${order!.agent_id}/mailbox`)).body, []);
  assert.deepEqual((await http(d.url, 'GET', `/v1/agents/${order!.agent_id}/mailbox/dead-letter`)).body, []);
});

test('an expired message is dead-lettered, never delivered stale', async () => {
  const { sender, ttl } = agents;
  const hold = await submit(ttl!, 'hold the slot');
  await waitForRun(d.url, hold, (r) => r.status === 'running');
  const stale = (await post(sender!, ttl!, 'short-lived', { ttl_ms: 50 })).body.message_id;
  const dead = await until('the dead letter', async () => {
    const res = await http(d.url, 'GET', `/v1/agents/${ttl!.agent_id}/mailbox/dead-letter`);
    return (res.body as any[]).find((m) => m.id === stale);
  });
  assert.equal(dead.state, 'dead_letter');
  assert.equal(dead.last_error, 'expired');
  assert.equal(dead.delivery_attempts, 0);
  assert.deepEqual((await http(d.url, 'GET', `/v1/agents/${ttl!.agent_id}/mailbox`)).body, []);

  // The next message (no TTL) is delivered once the slot frees up; the stale one never is.
  const fresh = (await post(sender!, ttl!, 'lasting')).body.message_id;
  await http(d.url, 'POST', `/v1/runs/${hold}/cancel`);
  const [delivery] = await until('the fresh delivery', async () => {
    const rs = await runsOf(ttl!, 'mailbox_delivery');
    return rs.length > 0 && rs[0].status === 'completed' && rs;
  });
  assert.equal(delivery.input_metadata.mailbox.message_id, fresh);
  assert.equal((await runsOf(ttl!, 'mailbox_delivery')).length, 1);

  // Acking a dead letter clears it from the dead-letter list.
  const ack = await http(d.url, 'POST', `/v1/agents/${ttl!.agent_id}/mailbox/${stale}/ack`);
  assert.equal(ack.body.acknowledged, true);
  assert.deepEqual((await http(d.url, 'GET', `/v1/agents/${ttl!.agent_id}/mailbox/dead-letter`)).body, []);
});

test('message_agent: a run of one session posts to another agent, delivered there as a mailbox_delivery run', async () => {
  const { a, b } = agents;
  const sent = await submit(a!, 'send hello');
  const done = await waitForRun(d.url, sent);
  assert.equal(done.status, 'completed', JSON.stringify(done));
  const [result] = readJournal(d.stateRoot, sent, 'tool_result');
  assert.equal(result.name, 'message_agent');
  assert.equal(result.is_error, false, result.content);
  const posted = JSON.parse(result.content);
  assert.equal(posted.accepted, true);
  assert.equal(posted.duplicate, false);
  assert.equal(posted.to_agent_id, b!.agent_id);

  const [delivery] = await until('the delivery in B', async () => {
    const rs = await runsOf(b!, 'mailbox_delivery');
    return rs.length > 0 && rs[0].status === 'completed' && rs;
  });
  assert.equal(delivery.input_metadata.mailbox.message_id, posted.message_id);
  assert.equal(delivery.input_metadata.mailbox.from_agent_id, a!.agent_id);
  assert.match(delivery.request.text_preview, /hi from A/);
  assert.deepEqual(
    delivery.outputs.map((o: any) => o.content),
    ['got it'],
  );
});

test('parent clarification: a question on the parent session (with its requester); the answer reaches the child', async () => {
  const { p, c } = agents;
  const child = await submit(c!, 'ask parent one');
  const pending = await until('the question on the parent session', async () => {
    const list = (await http(d.url, 'GET', `/v1/questions?session_id=${p!.session_id}`)).body as any[];
    return list[0];
  });
  assert.equal(pending.run_kind, 'parent_clarification');
  assert.equal(pending.requester_agent_id, c!.agent_id);
  assert.equal(pending.requester_session_id, c!.session_id);
  assert.equal(pending.requester_run_id, child);
  assert.ok(pending.requester_tool_call_id);
  assert.deepEqual(pending.requester_project_ids, []);
  assert.equal(pending.request.questions[0].question, 'Which colour?');
  assert.deepEqual(
    pending.request.questions[0].options.map((o: any) => o.id),
    ['blue'],
  );
  const res = await http(d.url, 'POST', `/v1/runs/${pending.run_id}/questions`, {
    resolution: {
      request_id: pending.request.id,
      answers: [{ question_id: pending.request.questions[0].id, selected_option_ids: ['blue'] }],
    },
  });
  assert.equal(res.status, 202, res.text);
  assert.equal(res.body.status, 'completed', 'a parent clarification run completes when answered');
  const done = await waitForRun(d.url, child);
  assert.equal(done.status, 'completed', JSON.stringify(done));
  assert.deepEqual(
    done.outputs.map((o: any) => o.content),
    ['child one done'],
  );
  const [result] = readJournal(d.stateRoot, child, 'tool_result');
  assert.equal(result.name, 'request_parent_clarification');
  const answer = JSON.parse(result.content);
  assert.equal(answer.status, 'answered');
  assert.deepEqual(answer.answer, { selected_option_ids: ['blue'], selected_labels: ['Blue'] });
  assert.equal(answer.source, 'operator');
  const events = (await http(d.url, 'GET', `/v1/runs/${pending.run_id}/events`)).body as any[];
  assert.deepEqual(
    events.map((e) => e.event.type),
    [
      'accepted',
      'queued',
      'started',
      'waiting_for_user_question',
      'parent_clarification_resolved',
      'completed',
    ],
  );
  assert.equal(events[4].event.requester_agent_id, c!.agent_id);
  assert.equal((await runsOf(p!, 'mailbox_delivery')).length, 0, 'a clarification is not a mailbox_delivery');
});

test('parent clarification: cancelling the question declines it, and so does its expiry; the parent run completes', async () => {
  const { p, c } = agents;
  const question = async () =>
    until('the question on the parent session', async () => {
      const list = (await http(d.url, 'GET', `/v1/questions?session_id=${p!.session_id}`)).body as any[];
      return list[0];
    });
  const resultOf = async (run: string) => {
    assert.equal((await waitForRun(d.url, run)).status, 'completed');
    return JSON.parse(readJournal(d.stateRoot, run, 'tool_result')[0].content);
  };

  const first = await submit(c!, 'ask parent one');
  const pending = await question();
  const cancel = await http(
    d.url,
    'POST',
    `/v1/runs/${pending.run_id}/questions/${pending.request.id}/cancel`,
    {},
  );
  assert.equal(cancel.status, 200, cancel.text);
  assert.equal(cancel.body.status, 'completed', 'declined for parent clarifications, not cancelled');
  const declined = await resultOf(first);
  assert.deepEqual(
    [declined.status, declined.declined, declined.source],
    ['declined', true, 'operator_cancel'],
  );

  const second = await submit(c!, 'ask parent briefly');
  const short = await question();
  assert.ok(short.request.expires_at_ms, 'the question carries the clarification deadline');
  const expired = await resultOf(second);
  assert.equal(expired.declined, true);
  assert.equal(expired.status, 'expired');
  assert.equal((await http(d.url, 'GET', `/v1/runs/${short.run_id}`)).body.status, 'completed');
});

test('parent clarification: the child keeps waiting across a crash; the parent replies with message_agent reply_to', async () => {
  const { p2, c2 } = agents;
  const hold = await submit(p2!, 'hold the slot');
  await waitForRun(d.url, hold, (r) => r.status === 'running');
  const child = await submit(c2!, 'ask parent two');
  const request = await until('the request in the parent mailbox', async () => {
    const box = (await http(d.url, 'GET', `/v1/agents/${p2!.agent_id}/mailbox`)).body as any[];
    return box.find((m) => m.kind === 'parent_clarification');
  });
  const requestId = request.payload.request_id as string;
  assert.equal(request.payload.question, 'Which shape?');
  assert.equal(request.payload.requester.agent_id, c2!.agent_id);
  assert.equal((await http(d.url, 'GET', `/v1/runs/${child}`)).body.status, 'running');

  // The parent's reply needs the request id: a crash, then the new script.
  await restartWith(
    script([
      {
        match: '^reply to the child',
        turns: [
          { tool_calls: [{ name: 'message_agent', arguments: { reply_to: requestId, text: 'a square' } }] },
          { text: 'replied' },
        ],
      },
    ]),
    true,
  );
  const box = (await http(d.url, 'GET', `/v1/agents/${p2!.agent_id}/mailbox`)).body as any[];
  assert.deepEqual(
    box.map((m) => m.id),
    [request.id],
    'the re-run tool call asked nothing new',
  );
  // The reply run queues behind the hold; the parent session never goes idle in between, so the
  // request is answered before it could become a question there.
  const reply = await submit(p2!, 'reply to the child');
  await http(d.url, 'POST', `/v1/runs/${hold}/cancel`);
  assert.equal((await waitForRun(d.url, reply)).status, 'completed');

  const done = await waitForRun(d.url, child);
  assert.equal(done.status, 'completed', JSON.stringify(done));
  assert.deepEqual(
    done.outputs.map((o: any) => o.content),
    ['child two done'],
  );
  const results = readJournal(d.stateRoot, child, 'tool_result');
  assert.equal(results.length, 1, 'one result for the one clarification call');
  const answer = JSON.parse(results[0].content);
  assert.deepEqual(
    { status: answer.status, answer: answer.answer, source: answer.source, by: answer.answered_by_agent_id },
    { status: 'answered', answer: 'a square', source: 'reply', by: p2!.agent_id },
  );
  assert.equal((await runsOf(p2!, 'parent_clarification')).length, 0, 'answered before it became a run');
  assert.deepEqual((await http(d.url, 'GET', `/v1/agents/${p2!.agent_id}/mailbox`)).body, []);

  // A second, different answer to a settled clarification is refused (api-core §4.6).
  const late = await post(p2!, c2!, 'clarification_reply', {
    reply_to: requestId,
    payload: { text: 'a circle' },
  });
  assert.equal(late.status, 409, late.text);
  assert.equal(late.body.code, 'question_resolution_conflict');
});

test('CLI: mailboxes post, agents drain-mailbox (non-draining), ack-mailbox, mailbox-dead-letters', async () => {
  const { sender, ttl } = agents;
  const hold = await submit(ttl!, 'hold the slot again');
  await waitForRun(d.url, hold, (r) => r.status === 'running');
  const cli = async (...args: string[]) => {
    let out = '';
    const io = {
      stdout: (t: string) => {
        out += t;
      },
      stderr: () => undefined,
      readStdin: async () => '',
      onInterrupt: () => () => undefined,
    };
    const code = await createCli({ io }).run([
      'node',
      'kheish-daemon',
      '--base-url',
      d.url,
      '--output',
      'json',
      ...args,
    ]);
    return { code, body: JSON.parse(out) };
  };
  const posted = await cli(
    'mailboxes',
    'post',
    '--from-agent-id',
    sender!.agent_id,
    '--to-agent-id',
    ttl!.agent_id,
    '--subject',
    'via-cli',
    '--message-id',
    'msg-cli-1',
    '--ttl-ms',
    '600000',
    '--payload-json',
    '{"n":1}',
  );
  assert.deepEqual(posted, { code: 0, body: { accepted: true, message_id: 'msg-cli-1', duplicate: false } });
  const first = await cli('agents', 'drain-mailbox', ttl!.agent_id);
  const second = await cli('agents', 'drain-mailbox', ttl!.agent_id);
  assert.deepEqual(second, first, 'drain-mailbox lists without consuming');
  assert.deepEqual(
    first.body.map((m: any) => [m.id, m.payload]),
    [['msg-cli-1', { n: 1 }]],
  );
  assert.deepEqual((await cli('agents', 'ack-mailbox', ttl!.agent_id, 'msg-cli-1')).body.acknowledged, true);
  const missing = await cli('agents', 'ack-mailbox', ttl!.agent_id, 'msg-cli-nope');
  assert.equal(missing.code, 1);
  assert.equal(missing.body.acknowledged, false);
  assert.deepEqual((await cli('agents', 'drain-mailbox', ttl!.agent_id)).body, []);
  assert.deepEqual((await cli('agents', 'mailbox-dead-letters', ttl!.agent_id)).body, []);
  await http(d.url, 'POST', `/v1/runs/${hold}/cancel`);
});

test('parent clarification: answered through POST /v1/mailboxes reply_to, or declined when an operator acks the request', async () => {
  const { p2, c2 } = agents;
  const hold = await submit(p2!, 'hold the slot once more');
  await waitForRun(d.url, hold, (r) => r.status === 'running');
  const ask = async () => {
    const run = await submit(c2!, 'ask parent two');
    const request = await until('the request', async () => {
      const box = (await http(d.url, 'GET', `/v1/agents/${p2!.agent_id}/mailbox`)).body as any[];
      return box.find((m) => m.kind === 'parent_clarification' && m.payload.requester.run_id === run);
    });
    return { run, request };
  };
  const answerOf = async (run: string) => {
    const done = await waitForRun(d.url, run);
    assert.equal(done.status, 'completed', JSON.stringify(done));
    return JSON.parse(readJournal(d.stateRoot, run, 'tool_result')[0].content);
  };

  const byApi = await ask();
  const reply = await post(p2!, c2!, 'answer', {
    reply_to: byApi.request.payload.request_id,
    payload: { text: 'a triangle' },
  });
  assert.equal(reply.status, 202, reply.text);
  const answered = await answerOf(byApi.run);
  assert.deepEqual([answered.status, answered.answer, answered.source], ['answered', 'a triangle', 'reply']);

  const byAck = await ask();
  const ack = await http(d.url, 'POST', `/v1/agents/${p2!.agent_id}/mailbox/${byAck.request.id}/ack`);
  assert.equal(ack.body.acknowledged, true);
  const declined = await answerOf(byAck.run);
  assert.deepEqual([declined.status, declined.declined, declined.source], ['declined', true, 'acked']);

  // Neither request reached the parent as a run; its mailbox is empty once both are settled.
  assert.deepEqual((await http(d.url, 'GET', `/v1/agents/${p2!.agent_id}/mailbox`)).body, []);
  await http(d.url, 'POST', `/v1/runs/${hold}/cancel`);
  assert.equal((await runsOf(p2!, 'parent_clarification')).length, 0, 'neither became a run');
});

test('a delivery run that fails is retried up to 3 runs, then dead-lettered; a message to an ended session is dead-lettered', async () => {
  const { sender, flaky, ended } = agents;
  const id = (await post(sender!, flaky!, 'flaky')).body.message_id;
  const dead = await until('the dead letter', async () => {
    const res = await http(d.url, 'GET', `/v1/agents/${flaky!.agent_id}/mailbox/dead-letter`);
    return (res.body as any[]).find((m) => m.id === id);
  });
  assert.equal(dead.delivery_attempts, 3);
  assert.match(dead.last_error, /^delivery_run_failed/);
  const runs = await runsOf(flaky!, 'mailbox_delivery');
  assert.deepEqual(
    runs.map((r) => [r.status, r.input_metadata.mailbox.message_id, r.input_metadata.mailbox.attempt]),
    [
      ['failed', id, 1],
      ['failed', id, 2],
      ['failed', id, 3],
    ],
  );

  const end = await http(d.url, 'POST', `/v1/sessions/${ended!.session_id}/end`, {});
  assert.equal(end.status, 200, end.text);
  const late = (await post(sender!, ended!, 'too late')).body.message_id;
  const letter = await until('the dead letter', async () => {
    const res = await http(d.url, 'GET', `/v1/agents/${ended!.agent_id}/mailbox/dead-letter`);
    return (res.body as any[]).find((m) => m.id === late);
  });
  assert.equal(letter.last_error, 'target_session_ended');
  assert.equal((await runsOf(ended!)).length, 0);
});

test('parent clarification from a real sidechain child: it asks its own parent and shows waiting_for_user_input meanwhile', async () => {
  const { boss } = agents;
  const hold = await submit(boss!, 'hold the slot for the boss');
  await waitForRun(d.url, hold, (r) => r.status === 'running');
  const spawned = await http(d.url, 'POST', `/v1/agents/${boss!.agent_id}/sidechains`, {
    subtask: { name: 'tiering', content: 'ask the boss for a tier' },
  });
  assert.equal(spawned.status, 201, spawned.text);
  const child = spawned.body.agent_id as string;
  const request = await until('the request in the boss mailbox', async () => {
    const box = (await http(d.url, 'GET', `/v1/agents/${boss!.agent_id}/mailbox`)).body as any[];
    return box.find((m) => m.kind === 'parent_clarification');
  });
  assert.equal(request.from, child);
  assert.equal((await http(d.url, 'GET', `/v1/agents/${child}`)).body.status, 'waiting_for_user_input');
  const [summary] = (await http(d.url, 'GET', `/v1/agents/summaries?session_id=${boss!.session_id}`)).body;
  assert.equal(summary.pending_parent_clarification_count, 1);

  await http(d.url, 'POST', `/v1/runs/${hold}/cancel`);
  // Once the boss session is free the request becomes a question there; its operator answers.
  const pending = await until('the question on the boss session', async () => {
    const list = (await http(d.url, 'GET', `/v1/questions?session_id=${boss!.session_id}`)).body as any[];
    return list[0];
  });
  assert.equal(pending.requester_agent_id, child);
  const res = await http(d.url, 'POST', `/v1/sessions/${boss!.session_id}/questions`, {
    resolution: {
      request_id: pending.request.id,
      answers: [
        { question_id: pending.request.questions[0].id, selected_option_ids: [], freeform_answer: 'gold' },
      ],
    },
  });
  assert.equal(res.status, 200, res.text);
  const launch = spawned.body.launch_run_id as string;
  const done = await waitForRun(d.url, launch);
  assert.equal(done.status, 'completed', JSON.stringify(done));
  const answer = JSON.parse(readJournal(d.stateRoot, launch, 'tool_result')[0].content);
  assert.deepEqual([answer.status, answer.answer, answer.source], ['answered', 'gold', 'operator']);
  const [after] = (await http(d.url, 'GET', `/v1/agents/summaries?session_id=${boss!.session_id}`)).body;
  assert.equal(after.pending_parent_clarification_count, 0);
});
