// docs/schedules.md, "Start a Flow on a schedule": the page's JSON body is sent as it is (with the
// digest of a published release-review playbook) and its CLI lines run in order; each trigger
// starts one Flow whose root run is a scheduled_input run carrying kheish_flow, as the page says.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { BIN, http, startDaemon, waitForRun } from '../helpers/daemon.ts';
import { fencedBlocks, cliArgs as words } from './markdown.ts';

const DOC = resolve(import.meta.dirname, '../../docs/schedules.md');
const text = readFileSync(DOC, 'utf8');
const start = text.indexOf('## Start a Flow on a schedule');
const section = text.slice(start, text.indexOf('\n## ', start + 1));
const blocks = fencedBlocks('docs/schedules.md#flow', section);

test('docs/schedules.md: the flow_start body and CLI lines start one Flow per fire', async () => {
  assert.ok(start > 0, 'the section exists');
  const json = blocks.filter((b) => b.lang === 'json');
  const sh = blocks.filter((b) => b.lang === 'sh');
  assert.equal(json.length, 1);
  assert.equal(sh.length, 1);
  const d = await startDaemon({ script: { default: { turns: [{ text: 'reviewed' }] } } });
  try {
    const body = JSON.parse(json[0]!.body);
    const pb = body.flow_start.playbook_ref;
    const manifest = {
      playbook_id: pb.playbook_id,
      version: pb.version,
      title: 'Release review',
      objective: 'Review',
    };
    const created = await http(d.url, 'POST', '/v1/playbooks', { manifest });
    assert.equal(created.status, 200, created.text);
    const digest: string = created.body.selected_version.digest;
    const pub = await http(d.url, 'POST', `/v1/playbooks/${pb.playbook_id}/publish`, {
      version: pb.version,
      digest,
      evidence_refs: [{ kind: 'doc_review', id: 'r' }],
    });
    assert.equal(pub.status, 200, pub.text);
    assert.ok(
      (await http(d.url, 'POST', '/v1/sessions', { session_id: body.target_session_id })).status < 300,
    );

    pb.digest = digest;
    const viaApi = await http(d.url, 'POST', '/v1/schedules', body);
    assert.equal(viaApi.status, 201, viaApi.text);
    assert.deepEqual(viaApi.body.flow_start.metadata, { ticket: 'REL-7' });

    const ids: Record<string, string> = { digest };
    let last = '';
    for (const line of sh[0]!.body.trim().split('\n')) {
      const argv = words(line.replace(/<(digest|schedule_id)>/g, (_, k: string) => ids[k]!));
      const out = spawnSync(BIN, argv, {
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, KHEISH_DAEMON_URL: d.url },
      });
      assert.equal(out.status, 0, `${line}\n${out.stdout}\n${out.stderr}`);
      if (line.includes('schedules create')) ids.schedule_id = /schedule-[0-9a-z]+/.exec(out.stdout)![0];
      last = out.stdout;
    }
    const flows = (await http(d.url, 'GET', `/v1/flows?playbook_id=${pb.playbook_id}`)).body;
    assert.equal(flows.length, 1, JSON.stringify(flows));
    assert.ok(last.includes(flows[0].flow_id), last);
    const run = await waitForRun(d.url, flows[0].run_id);
    assert.equal(run.kind, 'scheduled_input');
    assert.equal(run.input_metadata.schedule_id, ids.schedule_id);
    assert.equal(run.input_metadata.kheish_flow.flow_id, flows[0].flow_id);
  } finally {
    await d.kill();
    await d.cleanup();
  }
});
