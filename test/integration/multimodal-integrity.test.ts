// A file of a run's input changed behind the daemon's back (SQLite payload file): the bytes are
// re-verified when the model call is built, so the run fails with the store's integrity code
// instead of sending the model something else. SQLite only (the payload is a file there).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon, waitForRun } from '../helpers/daemon.ts';
import { testStoreIsPostgres } from '../helpers/pg-schema.ts';

let d: TestDaemon;
before(async () => {
  d = await startDaemon({ script: { default: { turns: [{ text: 'ok' }] } } });
});
after(async () => {
  await d.stop();
  await d.cleanup();
});

test('an input file whose stored bytes changed fails the run (asset_integrity_mismatch) at the model call', {
  skip: testStoreIsPostgres(),
}, async () => {
  const body = 'the original minutes';
  const imported = await http(d.url, 'POST', '/v1/assets', {
    file_name: 'minutes.txt',
    media_type: 'text/plain',
    content_base64: Buffer.from(body).toString('base64'),
  });
  const digest = createHash('sha256').update(body).digest('hex');
  assert.equal(imported.body.sha256, digest);
  writeFileSync(join(d.stateRoot, 'blobs', 'assets', digest.slice(0, 2), digest), 'the forged minutes!!');
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'tampered' });
  const res = await http(d.url, 'POST', '/v1/sessions/tampered/runs', {
    content: 'summarize',
    attachments: [{ type: 'asset_reference', asset_id: imported.body.asset_id }],
  });
  assert.equal(res.status, 202, res.text);
  const run = await waitForRun(d.url, res.body.run_id);
  assert.equal(run.status, 'failed');
  assert.match(run.error, /^input asset unavailable: /);
  const events = (await http(d.url, 'GET', `/v1/runs/${run.run_id}/events`)).body;
  assert.ok(!JSON.stringify(events).includes('forged'), 'the changed bytes reached nobody');
});
