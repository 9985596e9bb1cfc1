// Mailbox delivery with two replicas on one PostgreSQL database (issue 11): messages posted on
// either replica, to several agents at once, while both replicas' dispatchers pump (after each post,
// each delivery's end, and every second). Each message must become exactly one mailbox_delivery run
// with one dispatch trace, and each agent's deliveries go one at a time in post order. Always on
// PostgreSQL (a fresh schema), whatever KHEISH_TEST_STORE says.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { waitFor } from '../crash/crash-kit.ts';
import { http, type TestDaemon } from '../helpers/daemon.ts';
import { type ReplicaPair, startReplicaPair } from '../helpers/replica-pair.ts';
import { jsonColumn, queryState } from '../helpers/state-query.ts';

const TARGETS = 3;
const PER_TARGET = 6;
const script = {
  rules: [{ match: 'subject: m-', turns: [{ delay_ms: 20, text: 'handled' }] }],
  default: { turns: [{ text: 'ok' }] },
};

let pair: ReplicaPair;
let a: TestDaemon;
let b: TestDaemon;

before(async () => {
  pair = await startReplicaPair({ script, args: ['--lease-ttl-ms', '1000'] });
  ({ a, b } = pair);
});

after(() => pair?.stop());

const until = <T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000) =>
  waitFor(what, probe, ms, 100);

async function agent(on: TestDaemon, sid: string): Promise<{ session_id: string; agent_id: string }> {
  const res = await http(on.url, 'POST', '/v1/sessions', { session_id: sid });
  assert.equal(res.status, 201, res.text);
  return { session_id: res.body.session_id, agent_id: res.body.agent_id };
}

test('a message posted on either replica is delivered exactly once while both dispatchers pump', async () => {
  const sender = await agent(a, 'mbx-sender');
  const targets = [];
  for (let t = 0; t < TARGETS; t++) targets.push(await agent(t % 2 ? b : a, `mbx-target-${t}`));
  // All posts at once, alternating replicas: each post pumps its replica's dispatcher.
  const posted = await Promise.all(
    targets.flatMap((to, t) =>
      Array.from({ length: PER_TARGET }, (_, i) =>
        http((t + i) % 2 ? b.url : a.url, 'POST', '/v1/mailboxes', {
          from_agent_id: sender.agent_id,
          to_agent_id: to.agent_id,
          subject: `m-${t}-${i}`,
          payload: { t, i },
        }),
      ),
    ),
  );
  for (const p of posted) assert.equal(p.status, 202, p.text);
  const total = TARGETS * PER_TARGET;
  const rows = await until('every message to be delivered', async () => {
    const rs = await queryState<any>(
      a,
      'select message_id, to_agent_id, status, delivery_run_id, delivery_attempts, seq from mailbox_messages order by seq',
    );
    return rs.length === total && rs.every((r) => r.status === 'delivered') ? rs : undefined;
  });
  assert.ok(
    rows.every((r) => Number(r.delivery_attempts) === 1),
    'each message was dispatched once',
  );
  assert.equal(new Set(rows.map((r) => r.delivery_run_id)).size, total, 'one run per message');

  const runs = await queryState<any>(
    a,
    "select run_id, session_id, status, request, started_at_ms, finished_at_ms from runs where kind = 'mailbox_delivery' order by queue_seq",
  );
  assert.equal(runs.length, total, `exactly one delivery run per message (${runs.length} runs for ${total})`);
  assert.deepEqual(
    runs.map((r) => r.run_id).sort(),
    rows.map((r) => r.delivery_run_id).sort(),
    'the runs are the ones the messages name',
  );
  assert.ok(runs.every((r) => r.status === 'completed'));

  const traces = await queryState<{ data: unknown }>(a, "select data from events where name = 'trace'");
  const dispatched = traces
    .map((e) => jsonColumn(e.data).trace)
    .filter((t) => t?.kind === 'mailbox_message_dispatched');
  assert.equal(dispatched.length, total, 'one dispatch trace per message');
  assert.equal(new Set(dispatched.map((t) => t.message_id)).size, total);

  for (const to of targets) {
    const mine = rows.filter((r) => r.to_agent_id === to.agent_id);
    const byRun = new Map(runs.map((r) => [r.run_id, r]));
    const order = mine.map((m) => byRun.get(m.delivery_run_id)!);
    for (let i = 1; i < order.length; i++)
      assert.ok(
        Number(order[i].started_at_ms) >= Number(order[i - 1].finished_at_ms),
        `${to.agent_id}: delivery ${i + 1} started only after delivery ${i} ended (one at a time, post order)`,
      );
    for (const [k, m] of mine.entries())
      assert.equal(
        jsonColumn(order[k].request).metadata.mailbox.message_id,
        m.message_id,
        'each run delivers the message that names it',
      );
  }
});
