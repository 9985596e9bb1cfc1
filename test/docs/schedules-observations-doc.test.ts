// docs/schedules.md, "Materialize observations on a schedule": the JSON body of the page is sent as
// it is to a daemon holding the source and session it names; a trigger then makes the run the page
// describes, over the observation present at that fire, and the next fire over what is there then.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { http, startDaemon, waitForRun } from '../helpers/daemon.ts';
import { sourceBody, upload, uploadBody } from '../helpers/observations.ts';
import { fencedBlocks } from './markdown.ts';

const DOC = resolve(import.meta.dirname, '../../docs/schedules.md');
const TOKEN = 'screen-upload-token-0001';

test('docs/schedules.md: the observation schedule body is accepted and each fire materializes what is there then', async () => {
  const json = fencedBlocks('docs/schedules.md', readFileSync(DOC, 'utf8'))
    .filter((b) => b.lang === 'json')
    .map((b) => JSON.parse(b.body))
    .filter((b) => b.observation_materialization);
  assert.equal(json.length, 1, 'the page has one observation schedule body');
  const body = json[0];
  const d = await startDaemon({ script: { default: { turns: [{ text: 'digest' }] } } });
  try {
    const sourceId = body.observation_materialization.selection.source_id;
    assert.equal(
      (await http(d.url, 'POST', '/v1/observation-sources', sourceBody(sourceId, TOKEN))).status,
      201,
    );
    assert.ok(
      (await http(d.url, 'POST', '/v1/sessions', { session_id: body.target_session_id })).status < 300,
    );

    const created = await http(d.url, 'POST', '/v1/schedules', body);
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.request.content, body.observation_materialization.request.content);
    assert.equal(created.body.observation_materialization.target_session_id, body.target_session_id);
    const trigger = async () => {
      const res = await http(d.url, 'POST', `/v1/schedules/${created.body.schedule_id}/trigger`);
      assert.equal(res.status, 200, res.text);
      return res.body.schedule.recent_executions.at(-1);
    };

    // Nothing uploaded yet: fail_when_empty skips the fire, as the page says.
    const empty = await trigger();
    assert.equal(empty.status, 'skipped');
    assert.match(empty.error, /^observations\/empty_observation_selection: /);

    const up = await upload(d.url, sourceId, TOKEN, uploadBody('frame-1', 1));
    assert.equal(up.status, 201, up.text);
    const fired = await trigger();
    const run = await waitForRun(d.url, fired.run_id);
    assert.equal(run.kind, 'scheduled_observation_materialization');
    assert.equal(run.status, 'completed');
    assert.equal(run.input_metadata.schedule_id, created.body.schedule_id);
    assert.deepEqual(run.input_metadata.observation_materialization.observation_ids, [
      up.body.observation_id,
    ]);
  } finally {
    await d.kill();
    await d.cleanup();
  }
});
