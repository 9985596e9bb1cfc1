// Debug capture writes in its own transactions, beside the run's: SIGKILL the daemon at a random
// point while a run's artifacts are being written, restart, let the run finish, and check that
// the bundle index still agrees with the artifact rows and the store counters, that every listed
// artifact is served with its recorded digest, and that a call made again after the restart got
// new ids instead of overwriting evidence.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { http, startDaemon, type TestDaemon, waitForRun } from '../helpers/daemon.ts';
import { queryState } from '../helpers/state-query.ts';
import { ITERATIONS, NOOP_CALL, randomInt, sleep } from './crash-kit.ts';

const TURNS = [
  ...Array.from({ length: 6 }, () => ({ delay_ms: 40, tool_calls: [NOOP_CALL] })),
  { delay_ms: 40, text: 'done' },
];

async function assertConsistent(d: TestDaemon): Promise<number> {
  const bundles = await queryState(
    d,
    'select run_id, artifact_count, bytes, plaintext_bytes from debug_bundles order by run_id',
  );
  const sums = await queryState(
    d,
    `select run_id, count(*) as n, sum(bytes) as bytes, sum(plaintext_bytes) as plain
       from debug_artifacts group by run_id order by run_id`,
  );
  assert.deepEqual(
    bundles.map((b) => [b.run_id, Number(b.artifact_count), Number(b.bytes), Number(b.plaintext_bytes)]),
    sums.map((s) => [s.run_id, Number(s.n), Number(s.bytes), Number(s.plain)]),
    'every bundle row agrees with its artifact rows, and no artifact is without a bundle',
  );
  const counters = new Map(
    (await queryState(d, "select name, value from counters where name like 'debug:%'")).map((r) => [
      r.name,
      Number(r.value),
    ]),
  );
  assert.equal(counters.get('debug:bundles') ?? 0, bundles.length);
  assert.equal(
    counters.get('debug:artifacts') ?? 0,
    sums.reduce((n, s) => n + Number(s.n), 0),
  );
  assert.equal(
    counters.get('debug:bytes') ?? 0,
    sums.reduce((n, s) => n + Number(s.bytes), 0),
  );
  return bundles.length;
}

test('debug capture: a SIGKILL while artifacts are written leaves a consistent bundle index', async () => {
  for (let i = 0; i < ITERATIONS; i++) {
    let d = await startDaemon({ script: { default: { turns: TURNS } } });
    try {
      assert.equal((await http(d.url, 'POST', '/v1/runtime/debug-level', { level: 'full' })).status, 200);
      await http(d.url, 'POST', '/v1/sessions', { session_id: 'crash-debug' });
      const sub = await http(d.url, 'POST', '/v1/sessions/crash-debug/runs', { content: 'capture me' });
      assert.equal(sub.status, 202, sub.text);
      await sleep(randomInt(30, 350));
      await d.kill();
      d = await d.restart();
      const done = await waitForRun(d.url, sub.body.run_id);
      assert.equal(done.status, 'completed', done.error);
      assert.equal(await assertConsistent(d), 1);
      const view = await http(d.url, 'GET', `/v1/runs/${done.run_id}/debug`);
      assert.equal(view.status, 200, view.text);
      const ids: string[] = view.body.artifacts.map((a: { artifact_id: string }) => a.artifact_id);
      assert.equal(new Set(ids).size, ids.length);
      // The final turn was captured by the restarted daemon, after the call it re-made (if any).
      assert.ok(
        ids.some((id) => id.startsWith('turn-0007-attempt-0001-model-response')),
        ids.join(' '),
      );
      for (const a of view.body.artifacts) {
        const body = await http(d.url, 'GET', `/v1/runs/${done.run_id}/debug/artifacts/${a.artifact_id}`);
        assert.equal(body.status, 200, `${a.artifact_id}: ${body.text}`);
        assert.equal(createHash('sha256').update(body.text).digest('hex'), a.sha256, a.artifact_id);
      }
    } finally {
      await d.stop().catch(() => undefined);
      await d.cleanup();
    }
  }
});
