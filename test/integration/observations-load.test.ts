// Load on the upload ingress: 1,000 uploads to 10 sources — 900 distinct (90 per source against a
// burst of 80, so 10 per source must be refused) sent 16 at a time interleaved across sources, then
// 100 replays. Nothing accepted is lost (every 201 is listed, once), replays return the stored
// observation, and 429s happen exactly where the burst says. With KHEISH_TEST_STORE=postgres the
// uploads alternate between two replicas of one database, which must agree on the limit.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { sourceBody, upload, uploadBody } from '../helpers/observations.ts';
import { testStoreIsPostgres } from '../helpers/pg-schema.ts';
import { type ReplicaPair, startReplicaPair } from '../helpers/replica-pair.ts';

const SOURCES = 10;
const DISTINCT = 90;
const BURST = 80;
const REPLAYS = 10;
const CONCURRENCY = 16;

let daemons: TestDaemon[] = [];
let pair: ReplicaPair | null = null;
let single: TestDaemon | null = null;

before(async () => {
  if (testStoreIsPostgres()) {
    pair = await startReplicaPair();
    daemons = [pair.a, pair.b];
  } else {
    single = await startDaemon();
    daemons = [single];
  }
});
after(async () => {
  await pair?.stop();
  await single?.kill();
  await single?.cleanup();
});

const token = (s: number) => `load-upload-token-${String(s).padStart(4, '0')}`;

async function pool<T>(jobs: Array<() => Promise<T>>, width: number): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < jobs.length) {
        const i = next++;
        out[i] = await jobs[i]!();
      }
    }),
  );
  return out;
}

test('1,000 uploads from 10 sources: nothing accepted is lost, replays deduplicate, 429 exactly past the burst', async () => {
  const base = daemons[0]!.url;
  for (let s = 0; s < SOURCES; s++) {
    const res = await http(
      base,
      'POST',
      '/v1/observation-sources',
      sourceBody(`load-${s}`, token(s), {
        ingest_rate_limit_burst: BURST,
        ingest_rate_limit_window_ms: 600_000,
        max_active_observations: 1000,
      }),
    );
    assert.equal(res.status, 201, res.text);
  }
  // Interleaved: request i goes to source i % SOURCES, and to replica i % replicas.
  const plan = Array.from({ length: SOURCES * DISTINCT }, (_, i) => ({
    s: i % SOURCES,
    n: Math.floor(i / SOURCES),
  }));
  const started = Date.now();
  const results = await pool(
    plan.map((p, i) => async () => {
      const res = await upload(
        daemons[i % daemons.length]!.url,
        `load-${p.s}`,
        token(p.s),
        uploadBody(`k-${p.n}`, p.s * 1000 + p.n),
      );
      return { ...p, status: res.status, body: res.body, retryAfter: res.headers.get('retry-after') };
    }),
    CONCURRENCY,
  );
  const unexpected = results.filter((r) => r.status !== 201 && r.status !== 429);
  assert.deepEqual(
    unexpected.map((r) => `${r.status} ${JSON.stringify(r.body).slice(0, 200)}`),
    [],
  );
  for (let s = 0; s < SOURCES; s++) {
    const mine = results.filter((r) => r.s === s);
    assert.equal(
      mine.filter((r) => r.status === 201).length,
      BURST,
      `source ${s}: exactly the burst accepted`,
    );
    for (const r of mine.filter((x) => x.status === 429)) {
      assert.equal(r.body.code, 'rate_limited');
      assert.equal(r.body.domain, 'observation_ingress');
      assert.ok(r.body.retry_after_ms > 0 && r.body.retry_after_ms <= 600_000);
      assert.ok(Number(r.retryAfter) >= 1);
    }
  }
  // Replays of accepted keys return the same observation, on either replica; they are not limited.
  const accepted = results.filter((r) => r.status === 201);
  const replays = Array.from(
    { length: SOURCES * REPLAYS },
    (_, i) => accepted.filter((r) => r.s === i % SOURCES)[Math.floor(i / SOURCES)]!,
  );
  const again = await pool(
    replays.map(
      (r, i) => async () =>
        upload(
          daemons[(i + 1) % daemons.length]!.url,
          `load-${r.s}`,
          token(r.s),
          uploadBody(`k-${r.n}`, r.s * 1000 + r.n),
        ),
    ),
    CONCURRENCY,
  );
  again.forEach((res, i) => {
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.observation_id, replays[i]!.body.observation_id);
  });

  // Every accepted upload is listed once, with its bytes' digest; nothing refused was stored.
  for (let s = 0; s < SOURCES; s++) {
    const listed = (
      await http(daemons[s % daemons.length]!.url, 'GET', `/v1/observations?source_id=load-${s}`)
    ).body;
    const want = accepted
      .filter((r) => r.s === s)
      .map((r) => r.body.observation_id)
      .sort();
    assert.deepEqual(listed.map((o: any) => o.observation_id).sort(), want, `source ${s}`);
    assert.equal(new Set(listed.map((o: any) => o.idempotency_key)).size, BURST);
    const audit = (await http(base, 'GET', `/v1/observation-audit?source_id=load-${s}&limit=1000`)).body;
    const count = (e: string) => audit.filter((a: any) => a.event === e).length;
    assert.equal(count('upload_accepted'), BURST);
    assert.equal(count('upload_deduplicated'), REPLAYS);
    assert.equal(count('rate_limited'), DISTINCT - BURST);
  }
  const seconds = (Date.now() - started) / 1000;
  process.stdout.write(
    `# ${plan.length + replays.length} uploads on ${daemons.length} daemon(s) in ${seconds.toFixed(1)} s\n`,
  );
});

test('20 concurrent uploads of one key (on both replicas under PostgreSQL): one observation, one 201', async () => {
  const base = daemons[0]!.url;
  await http(base, 'POST', '/v1/observation-sources', sourceBody('race', 'race-upload-token-0001'));
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      upload(daemons[i % daemons.length]!.url, 'race', 'race-upload-token-0001', uploadBody('same-key', 77)),
    ),
  );
  assert.deepEqual(
    results.map((r) => r.status).sort((x, y) => x - y),
    [...Array(19).fill(200), 201],
  );
  assert.equal(new Set(results.map((r) => r.body.observation_id)).size, 1);
  assert.equal((await http(base, 'GET', '/v1/observations?source_id=race')).body.length, 1);
});
