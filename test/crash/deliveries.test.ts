// Crash tests of the delivery queue (api-collab §8; docs/deliveries.md "Crashes"): SIGKILL with
// deliveries in flight. A receiver that deduplicates by Idempotency-Key counts exactly one
// successful delivery per output and nothing is lost; a target that cannot deduplicate is not
// re-sent after a crash cut an attempt off: it waits for an operator (dead letter
// `outcome_unknown_after_restart`). Runs on SQLite, and on PostgreSQL with KHEISH_TEST_STORE=postgres.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { httpTarget, type ReplyReceiver, startReceiver } from '../helpers/reply-receiver.ts';
import {
  api,
  CrashRig,
  createSession,
  KillAim,
  randomInt,
  runIterations,
  sleep,
  submitRun,
  waitFor,
  waitTerminal,
} from './crash-kit.ts';

const ENV = { KHEISH_DELIVERY_INITIAL_RETRY_MS: '50', KHEISH_DELIVERY_MAX_RETRY_MS: '200' };
const SCRIPT = { default: { turns: [{ text: 'ok' }] } };

let rx: ReplyReceiver;
before(async () => {
  rx = await startReceiver();
});
after(async () => {
  await rx?.close();
});

async function deliveriesOfRuns(url: string, runIds: string[]): Promise<any[]> {
  const out: any[] = [];
  for (const id of runIds) out.push(...(await api(url, 'GET', `/v1/deliveries?run_id=${id}`)).body);
  return out;
}

test('crash: SIGKILL with deliveries in flight → exactly one successful delivery per output at a deduplicating receiver, none lost', async () => {
  const aim = new KillAim();
  await runIterations({ script: SCRIPT, env: ENV }, async (rig: CrashRig, index: number) => {
    const path = `/dedupe-${rig.lane}-${index}`;
    rx.always(path, { status: 200, delay_ms: 300 });
    const sid = await createSession(rig.url);
    const set = await api(rig.url, 'PUT', `/v1/sessions/${sid}/reply-targets`, [httpTarget(rx.at(path))]);
    assert.equal(set.status, 200, set.text);
    const runs: string[] = [];
    for (let i = 0; i < 6; i++) runs.push((await submitRun(rig.url, sid, `message ${i}`)).run_id);
    for (let kill = 0; kill < 2; kill++) {
      await sleep(randomInt(50, 400));
      const inFlight = rx.arrivals(path) > rx.received.filter((r) => r.path === path).length;
      await rig.crash();
      aim.record(inFlight, `lane ${rig.lane} iteration ${index} kill ${kill}`);
      await rig.restart();
    }
    await waitTerminal(rig.url, runs, 20_000);
    const all = await waitFor(
      'every output delivered',
      async () => {
        const list = await deliveriesOfRuns(rig.url, runs);
        return list.length === runs.length && list.every((d) => d.status === 'delivered') ? list : undefined;
      },
      20_000,
    );
    // No loss: one output and one delivery per run; exactly one successful key per delivery.
    for (const id of runs) {
      const run = (await api(rig.url, 'GET', `/v1/runs/${id}`)).body;
      assert.equal(run.outputs.length, 1, `run ${id} has one output`);
      assert.equal(run.deliveries.length, 1, `run ${id} has one delivery`);
    }
    const keys = rx.deliveredKeys(path);
    assert.deepEqual(
      [...keys.keys()].sort(),
      all.map((d) => `kheish:${d.delivery_id}`).sort(),
      'the receiver committed exactly the deliveries, one key each',
    );
    const bodies = rx.received.filter((r) => r.path === path && r.status === 200);
    assert.deepEqual(
      new Set(bodies.map((b) => b.body.run_id)),
      new Set(runs),
      'every run answered at the receiver',
    );
    const status = (await api(rig.url, 'GET', '/v1/status')).body.delivery;
    assert.equal(status.needs_operator, 0);
  });
  console.log(aim.assertMostlyHit('a delivery attempt in flight'));
});

test('crash: an attempt cut off to a target that cannot deduplicate is not re-sent; it waits for the operator', async () => {
  const rig = await CrashRig.start({ script: SCRIPT, env: ENV });
  try {
    const slow = '/no-dedupe';
    const safe = '/dedupe-slow';
    rx.always(slow, { status: 200, delay_ms: 4_000 });
    rx.always(safe, { status: 200, delay_ms: 4_000 });
    const sid = await createSession(rig.url);
    await api(rig.url, 'PUT', `/v1/sessions/${sid}/reply-targets`, [
      { ...httpTarget(rx.at(slow)), receiver_deduplicates: false },
      httpTarget(rx.at(safe)),
    ]);
    const run = (await submitRun(rig.url, sid, 'hello')).run_id;
    await waitFor(
      'both attempts in flight',
      async () => rx.arrivals(slow) >= 1 && rx.arrivals(safe) >= 1,
      10_000,
    );
    await rig.crash();
    rx.always(safe, { status: 200 });
    rx.always(slow, { status: 200 });
    await rig.restart();
    const list = await waitFor(
      'both deliveries settled',
      async () => {
        const l = await deliveriesOfRuns(rig.url, [run]);
        return l.length === 2 && l.every((d) => d.status === 'delivered' || d.status === 'dead_lettered')
          ? l
          : undefined;
      },
      15_000,
    );
    const byPath = (p: string) =>
      list.find((d) =>
        rx.received.some((r) => r.path === p && r.headers['idempotency-key'] === `kheish:${d.delivery_id}`),
      );
    const parked = list.find((d) => d.status === 'dead_lettered');
    assert.ok(parked, JSON.stringify(list));
    assert.equal(parked.last_error_code, 'outcome_unknown_after_restart');
    assert.equal(parked.needs_operator, true);
    assert.equal(byPath(safe)?.status, 'delivered', 'the deduplicating target was sent again');
    await sleep(500);
    assert.equal(rx.arrivals(slow), 1, 'the target that cannot deduplicate was not sent again');
    const st = (await api(rig.url, 'GET', '/v1/status')).body;
    assert.equal(st.delivery.needs_operator, 1);
    assert.ok(
      st.health.warnings.some((w: any) => w.code === 'delivery_outcome_unknown'),
      JSON.stringify(st.health),
    );
    // The operator's choices: resolve (it arrived) clears the warning; replay would send it again.
    const resolved = await api(rig.url, 'POST', `/v1/deliveries/${parked.delivery_id}/resolve`, {
      reason: 'seen at the receiver',
    });
    assert.equal(resolved.status, 200, resolved.text);
    const after = (await api(rig.url, 'GET', '/v1/status')).body;
    assert.equal(after.delivery.needs_operator, 0);
    assert.equal(after.delivery.unresolved_dead_lettered, 0);
    const replay = await api(rig.url, 'POST', `/v1/deliveries/${parked.delivery_id}/replay`);
    assert.equal(replay.status, 200, replay.text);
    await waitFor('the replay was sent', async () => rx.arrivals(slow) === 2, 10_000);
  } finally {
    await rig.dispose();
  }
});
