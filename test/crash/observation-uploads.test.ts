// Crash scenario: SIGKILL while uploads stream into an observation source. After the restart
// nothing acknowledged is lost, no observation row exists without its asset (bytes readable and
// matching the row's digest, held by a hard reference), nothing is half visible (every row has its
// `upload_accepted` audit record, committed with it), and retrying every upload with its key yields
// exactly one observation per key.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { uploadBody } from '../helpers/observations.ts';
import { queryState } from '../helpers/state-query.ts';
import { api, ITERATIONS, KillAim, randomInt, runIterations, sleep } from './crash-kit.ts';

const UPLOADS = 16;
const WIDTH = 4;

async function send(url: string, source: string, token: string, key: string, n: number) {
  try {
    const res = await fetch(`${url}/v1/observation-sources/${source}/observations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(uploadBody(key, n)),
      signal: AbortSignal.timeout(10_000),
    });
    return { status: res.status, body: (await res.json()) as any };
  } catch {
    return { status: 0, body: null };
  }
}

test(`crash: SIGKILL during observation uploads — no row without its asset, nothing half visible, nothing acknowledged lost (${ITERATIONS} iterations)`, async (t) => {
  const aim = new KillAim();
  await runIterations({}, async (rig, index) => {
    const source = `crash-${rig.lane}-${index}`;
    const token = `crash-upload-token-${rig.lane}-${index}-xx`;
    const created = await api(rig.url, 'POST', '/v1/observation-sources', {
      source_id: source,
      display_name: source,
      kind: 'screen_snapshot',
      upload_token: token,
    });
    assert.equal(created.status, 201, created.text);
    const keys = Array.from({ length: UPLOADS }, (_, k) => `${source}:frame-${k}`);
    const nOf = (k: number) => index * 1000 + rig.lane * 100 + k;
    const answers: Array<{ status: number; body: any } | undefined> = new Array(UPLOADS);
    // The first upload is answered before the stream starts: the kill then lands mid-stream.
    answers[0] = await send(rig.url, source, token, keys[0]!, nOf(0));
    assert.equal(answers[0].status, 201, JSON.stringify(answers[0].body));
    let next = 1;
    const url = rig.url;
    const streaming = Promise.all(
      Array.from({ length: WIDTH }, async () => {
        while (next < UPLOADS) {
          const k = next++;
          answers[k] = await send(url, source, token, keys[k]!, nOf(k));
        }
      }),
    );
    await sleep(randomInt(2, 60));
    await rig.crash();
    await streaming;
    const acked = answers.flatMap((a, k) =>
      a && (a.status === 201 || a.status === 200) ? [{ k, id: a.body.observation_id as string }] : [],
    );
    aim.record(
      acked.length > 0 && acked.length < UPLOADS,
      `${acked.length}/${UPLOADS} answered before the kill`,
    );
    await rig.restart();

    const listed = (await api(rig.url, 'GET', `/v1/observations?source_id=${source}`)).body as any[];
    const ids = new Set(listed.map((o) => o.observation_id));
    for (const a of acked) assert.ok(ids.has(a.id), `acknowledged observation ${a.id} survived`);
    const audit = (
      await api(rig.url, 'GET', `/v1/observation-audit?source_id=${source}&event=upload_accepted&limit=1000`)
    ).body as any[];
    assert.deepEqual(
      audit.map((r) => r.observation_id).sort(),
      [...ids].sort(),
      'each row has its audit record and no more',
    );
    const orphans = await queryState(
      rig.daemon,
      'select o.observation_id from observations o left join assets a on a.asset_id = o.asset_id where o.source_id = ? and a.asset_id is null',
      [source],
    );
    assert.deepEqual(orphans, [], 'no observation row without its asset');
    for (const o of listed) {
      const raw = await fetch(`${rig.url}/v1/assets/${o.asset_id}/raw`);
      assert.equal(raw.status, 200);
      const digest = createHash('sha256')
        .update(Buffer.from(await raw.arrayBuffer()))
        .digest('hex');
      assert.equal(digest, o.sha256, 'the bytes are whole and match the row');
      const refs = (await api(rig.url, 'GET', `/v1/assets/${o.asset_id}/references`)).text;
      assert.ok(refs.includes(o.observation_id), 'the asset is referenced by its observation');
    }

    // Retried with their keys, the uploads converge on one observation per key.
    const retried = await Promise.all(keys.map((key, k) => send(rig.url, source, token, key, nOf(k))));
    for (const [k, r] of retried.entries()) {
      assert.ok(r.status === 200 || r.status === 201, `retry ${k}: ${r.status} ${JSON.stringify(r.body)}`);
      if (r.status === 200) assert.ok(ids.has(r.body.observation_id));
    }
    const after = (await api(rig.url, 'GET', `/v1/observations?source_id=${source}`)).body as any[];
    assert.equal(after.length, UPLOADS);
    assert.equal(new Set(after.map((o) => o.idempotency_key)).size, UPLOADS);
  });
  t.diagnostic(aim.assertMostlyHit('the middle of an upload stream'));
});
