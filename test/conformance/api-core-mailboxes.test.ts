// api-core §15 item 78 and the mailbox surface of §6.1/§6.4: POST /v1/mailboxes (202, duplicate,
// validation), the non-draining GET /v1/agents/{id}/mailbox, dead letters and acks, unknown agents.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon, waitForRun } from '../helpers/daemon.ts';
import { assertProblem } from './support.ts';

const SCRIPT = {
  rules: [{ match: '^hold', turns: [{ hang: true }] }],
  default: { turns: [{ text: 'ok' }] },
};

let d: TestDaemon;
before(async () => {
  d = await startDaemon({ script: SCRIPT });
});
after(async () => {
  await d.kill();
  await d.cleanup();
});

async function agent(): Promise<{ session_id: string; agent_id: string }> {
  const res = await http(d.url, 'POST', '/v1/sessions', {});
  assert.equal(res.status, 201, res.text);
  return { session_id: res.body.session_id, agent_id: res.body.agent_id };
}

/** A session whose slot is held by a hanging run: its mailbox keeps what it receives. */
async function busyAgent() {
  const a = await agent();
  const run = await http(d.url, 'POST', `/v1/sessions/${a.session_id}/runs`, { content: 'hold the slot' });
  assert.equal(run.status, 202, run.text);
  await waitForRun(d.url, run.body.run_id, (r) => r.status === 'running');
  return { ...a, run_id: run.body.run_id as string };
}

test('api-core #78: POST /v1/mailboxes returns 202; two consecutive GET /v1/agents/{to}/mailbox calls return the same queued messages (non-draining)', async () => {
  const from = await agent();
  const to = await busyAgent();
  const post = await http(d.url, 'POST', '/v1/mailboxes', {
    from_agent_id: from.agent_id,
    to_agent_id: to.agent_id,
    subject: 'research-result',
    payload: { summary: 'Three candidate approaches', winner: 'option-b' },
  });
  assert.equal(post.status, 202, post.text);
  assert.equal(post.body.accepted, true);
  assert.equal(post.body.duplicate, false);
  assert.match(post.body.message_id, /\S/);

  const first = await http(d.url, 'GET', `/v1/agents/${to.agent_id}/mailbox`);
  const second = await http(d.url, 'GET', `/v1/agents/${to.agent_id}/mailbox`);
  assert.equal(first.status, 200, first.text);
  assert.equal(second.status, 200, second.text);
  assert.deepEqual(second.body, first.body, 'reading the mailbox does not drain it');
  assert.equal(first.body.length, 1);
  const m = first.body[0];
  assert.equal(m.id, post.body.message_id);
  assert.equal(m.state, 'pending');
  assert.equal(m.from, from.agent_id);
  assert.equal(m.to, to.agent_id);
  assert.equal(m.subject, 'research-result');
  assert.deepEqual(m.payload, { summary: 'Three candidate approaches', winner: 'option-b' });

  // Once the slot frees up, the message is delivered as a mailbox_delivery run and leaves the mailbox.
  await http(d.url, 'POST', `/v1/runs/${to.run_id}/cancel`);
  const runs = await waitForDelivery(to.session_id, 1);
  assert.equal(runs[0].kind, 'mailbox_delivery');
  await waitForRun(d.url, runs[0].run_id);
  const empty = await http(d.url, 'GET', `/v1/agents/${to.agent_id}/mailbox`);
  assert.deepEqual(empty.body, []);
});

async function waitForDelivery(sessionId: string, count: number): Promise<any[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const res = await http(d.url, 'GET', `/v1/runs?session_id=${sessionId}`);
    const deliveries = (res.body as any[]).filter((r) => r.kind === 'mailbox_delivery');
    if (deliveries.length >= count) return deliveries;
    if (Date.now() > deadline) throw new Error(`no delivery run in ${sessionId}: ${res.text}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('mailboxes: a repeated message_id with the same content is a duplicate; with other content a 409', async () => {
  const from = await agent();
  const to = await busyAgent();
  const body = {
    message_id: 'msg-conformance-dup',
    from_agent_id: from.agent_id,
    to_agent_id: to.agent_id,
    subject: 's',
    payload: [1, 2, 3],
  };
  const a = await http(d.url, 'POST', '/v1/mailboxes', body);
  const b = await http(d.url, 'POST', '/v1/mailboxes', body);
  assert.equal(a.status, 202, a.text);
  assert.equal(b.status, 202, b.text);
  assert.deepEqual(a.body, { accepted: true, message_id: 'msg-conformance-dup', duplicate: false });
  assert.deepEqual(b.body, { accepted: true, message_id: 'msg-conformance-dup', duplicate: true });
  const c = await http(d.url, 'POST', '/v1/mailboxes', { ...body, payload: [1, 2] });
  assertProblem(c, 409, 'idempotency', 'idempotency_conflict');
  const box = await http(d.url, 'GET', `/v1/agents/${to.agent_id}/mailbox`);
  assert.equal(box.body.length, 1, 'one message despite three posts');
});

test('mailboxes: invalid posts are 400 problems and nothing is queued', async () => {
  const from = await agent();
  const to = await busyAgent();
  const ok = { from_agent_id: from.agent_id, to_agent_id: to.agent_id, subject: 's', payload: null };
  for (const [what, body] of [
    ['ttl_ms 0', { ...ok, ttl_ms: 0 }],
    ['negative ttl_ms', { ...ok, ttl_ms: -5 }],
    ['fractional ttl_ms', { ...ok, ttl_ms: 1.5 }],
    ['empty subject', { ...ok, subject: '' }],
    ['missing subject', { from_agent_id: from.agent_id, to_agent_id: to.agent_id }],
    ['missing to_agent_id', { from_agent_id: from.agent_id, subject: 's' }],
    ['unknown field', { ...ok, priority: 'high' }],
    ['message_id with a slash', { ...ok, message_id: 'a/b' }],
    ['body not an object', [ok]],
  ] as const) {
    const res = await http(d.url, 'POST', '/v1/mailboxes', body);
    assertProblem(res, 400, undefined, undefined, what);
  }
  const big = await http(d.url, 'POST', '/v1/mailboxes', { ...ok, payload: 'x'.repeat(300 * 1024) });
  assertProblem(big, 413, 'agents', 'mailbox_payload_too_large');
  const box = await http(d.url, 'GET', `/v1/agents/${to.agent_id}/mailbox`);
  assert.deepEqual(box.body, []);
});

test('mailboxes: an unknown agent is 404 agents/agent_not_found on every route', async () => {
  const known = await agent();
  const base = { subject: 's', payload: 1 };
  assertProblem(
    await http(d.url, 'POST', '/v1/mailboxes', {
      ...base,
      from_agent_id: known.agent_id,
      to_agent_id: 'agent-nope',
    }),
    404,
    'agents',
    'agent_not_found',
  );
  assertProblem(
    await http(d.url, 'POST', '/v1/mailboxes', {
      ...base,
      from_agent_id: 'agent-nope',
      to_agent_id: known.agent_id,
    }),
    404,
    'agents',
    'agent_not_found',
  );
  for (const [method, path] of [
    ['GET', '/v1/agents/agent-nope/mailbox'],
    ['GET', '/v1/agents/agent-nope/mailbox/dead-letter'],
    ['POST', '/v1/agents/agent-nope/mailbox/msg-1/ack'],
  ] as const)
    assertProblem(await http(d.url, method, path), 404, 'agents', 'agent_not_found', `${method} ${path}`);
});

test('mailboxes: ack removes a queued message without delivering it; unknown ids answer acknowledged=false', async () => {
  const from = await agent();
  const to = await busyAgent();
  const post = (subject: string) =>
    http(d.url, 'POST', '/v1/mailboxes', { from_agent_id: from.agent_id, to_agent_id: to.agent_id, subject });
  const first = (await post('first')).body.message_id;
  const second = (await post('second')).body.message_id;
  const ack = await http(d.url, 'POST', `/v1/agents/${to.agent_id}/mailbox/${first}/ack`, {});
  assert.equal(ack.status, 200, ack.text);
  assert.deepEqual(ack.body, { acknowledged: true, agent_id: to.agent_id, message_id: first });
  const again = await http(d.url, 'POST', `/v1/agents/${to.agent_id}/mailbox/${first}/ack`);
  assert.equal(again.body.acknowledged, true, 'acking twice is a no-op');
  const unknown = await http(d.url, 'POST', `/v1/agents/${to.agent_id}/mailbox/msg-unknown/ack`);
  assert.deepEqual(unknown.body, { acknowledged: false, agent_id: to.agent_id, message_id: 'msg-unknown' });
  const foreign = await http(d.url, 'POST', `/v1/agents/${from.agent_id}/mailbox/${second}/ack`);
  assert.equal(foreign.body.acknowledged, false, "another agent's message cannot be acked");
  const box = await http(d.url, 'GET', `/v1/agents/${to.agent_id}/mailbox`);
  assert.deepEqual(
    box.body.map((m: any) => m.subject),
    ['second'],
  );
  await http(d.url, 'POST', `/v1/runs/${to.run_id}/cancel`);
  const runs = await waitForDelivery(to.session_id, 1);
  await waitForRun(d.url, runs[0].run_id);
  const all = await http(d.url, 'GET', `/v1/runs?session_id=${to.session_id}`);
  const deliveries = (all.body as any[]).filter((r) => r.kind === 'mailbox_delivery');
  assert.equal(deliveries.length, 1, 'only the unacked message was delivered');
  assert.equal(deliveries[0].input_metadata?.mailbox?.message_id, second);
});
