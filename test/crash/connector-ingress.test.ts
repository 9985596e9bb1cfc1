// Crash scenario (issue 16): 1,000 HTTP connector events, 20 % of them duplicates of others, posted
// by clients that retry until they get an answer, while the daemon is SIGKILLed twice at random
// points. Afterwards every event key has exactly one run and one receipt naming it, every answer
// for a key named that run, and every run finishes (none stuck).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonColumn, queryState } from '../helpers/state-query.ts';
import { api, CrashRig, randomInt, sleep, waitFor } from './crash-kit.ts';

const UNIQUE = 800;
const TOTAL = 1000;
const CLIENTS = 12;
const SESSIONS = 16;
const BEARER = 'crash-connector-token';

test('crash: SIGKILL during 1,000 HTTP ingress events with 20% duplicates leaves exactly one run per key', async () => {
  const crash = await CrashRig.start({
    script: { default: { turns: [{ text: 'ok' }] } },
    env: { CRASH_CONNECTOR_TOKEN: BEARER },
  });
  try {
    const created = await api(crash.url, 'PUT', '/v1/runtime/connectors/http/crash', {
      bearer_token: { env: 'CRASH_CONNECTOR_TOKEN' },
      ingress_events_per_second: 1_000_000,
      session_policy: { create_if_missing: true },
    });
    assert.equal(created.status, 200, created.text);

    // 800 keys, 200 of them sent twice, shuffled: a duplicate may even arrive before its original.
    const events = Array.from({ length: TOTAL }, (_, i) => (i < UNIQUE ? i : randomInt(0, UNIQUE - 1)));
    for (let i = events.length - 1; i > 0; i--) {
      const j = randomInt(0, i);
      [events[i], events[j]] = [events[j]!, events[i]!];
    }
    const answers = new Map<number, Set<string>>();
    let answered = 0;
    let next = 0;
    let retries = 0;

    const post = async (k: number) => {
      const body = JSON.stringify({
        content: `event ${k}`,
        idempotency_key: `evt-${k}`,
        session_id: `crash-s${k % SESSIONS}`,
      });
      for (;;) {
        try {
          const res = await fetch(`${crash.url}/v1/connectors/http/crash`, {
            method: 'POST',
            body,
            headers: { 'content-type': 'application/json', authorization: `Bearer ${BEARER}` },
            signal: AbortSignal.timeout(10_000),
          });
          const text = await res.text();
          if (res.status === 202 || res.status === 200) {
            const out = JSON.parse(text);
            const set = answers.get(k) ?? new Set<string>();
            set.add(out.run_id);
            answers.set(k, set);
            answered++;
            return;
          }
          // A daemon shutting down or starting may answer 503; anything else is a bug.
          assert.ok(res.status === 503, `event ${k}: ${res.status} ${text}`);
        } catch (err) {
          if (err instanceof assert.AssertionError) throw err;
        }
        retries++;
        await sleep(20);
      }
    };
    const clients = Array.from({ length: CLIENTS }, async () => {
      for (;;) {
        const i = next++;
        if (i >= events.length) return;
        await post(events[i]!);
      }
    });
    const killer = (async () => {
      for (const at of [randomInt(100, 400), randomInt(500, 850)]) {
        await waitFor(`${at} answers`, async () => answered >= at, 120_000, 5);
        await crash.crash();
        await sleep(randomInt(0, 50));
        await crash.restart();
      }
    })();
    await Promise.all([...clients, killer]);

    // Every answer for a key named one run.
    for (const [k, set] of answers)
      assert.equal(set.size, 1, `key ${k} was answered with ${[...set].join(', ')}`);
    assert.equal(answers.size, UNIQUE);

    const runs = await queryState<{ run_id: string; request: unknown; status: string }>(
      crash.daemon,
      "SELECT run_id, request, status FROM runs WHERE kind = 'input'",
    );
    const byKey = new Map<string, string[]>();
    for (const r of runs) {
      const req = jsonColumn(r.request);
      const key = req.metadata?.http_ingress_key_sha256 as string;
      byKey.set(key, [...(byKey.get(key) ?? []), r.run_id]);
    }
    assert.equal(runs.length, UNIQUE, 'one run per key, no more');
    for (const [key, ids] of byKey)
      assert.equal(ids.length, 1, `key ${key.slice(0, 12)} has runs ${ids.join(', ')}`);
    const receipts = await queryState<{ run_id: string }>(
      crash.daemon,
      "SELECT run_id FROM connector_receipts WHERE kind = 'http' AND connector = 'crash'",
    );
    assert.equal(receipts.length, UNIQUE);
    const runIds = new Set(runs.map((r) => r.run_id));
    for (const r of receipts) assert.ok(runIds.has(r.run_id), `receipt names run ${r.run_id}`);
    for (const set of answers.values()) assert.ok(runIds.has([...set][0]!), 'every answered run exists');

    // None stuck: all of them finish after the last restart.
    await waitFor(
      'every run finished',
      async () => {
        const left = await queryState<{ n: number }>(
          crash.daemon,
          "SELECT COUNT(*) AS n FROM runs WHERE status NOT IN ('completed','failed','interrupted','cancelled')",
        );
        return Number(left[0]!.n) === 0;
      },
      120_000,
      200,
    );
    console.log(`# ${retries} retried posts across 2 kills`);
  } finally {
    await crash.dispose();
  }
});
