// Schedules that start a Flow (api-collab §3.5 "a durable schedule may carry flow_start",
// decisions 435–437): checked at creation like POST /v1/flows; each fire is one new Flow whose root
// run is a `scheduled_input` run with kheish_flow metadata; a version revoked since creation skips
// the occurrence with the reason. Both stores (KHEISH_TEST_STORE=postgres).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { http, waitForRun } from '../helpers/daemon.ts';
import { manifest, playbooksDaemon, REVIEW } from './playbooks-support.ts';
import { assertProblem, createSession } from './support.ts';

const { base, ok, published, waitFlow } = playbooksDaemon();

const schedule = (session: string, flowStart: unknown, extra: Record<string, unknown> = {}) => ({
  name: 'nightly flow',
  target_session_id: session,
  cadence: { type: 'interval', every_seconds: 3600 },
  flow_start: flowStart,
  ...extra,
});

async function trigger(id: string): Promise<any> {
  const s = await ok('POST', `/v1/schedules/${id}/trigger`);
  return s.schedule.recent_executions.at(-1);
}

test('api-collab §3.5 flow_start: each triggered occurrence is one Flow whose root run is scheduled_input with kheish_flow', async () => {
  const ref = await published(manifest('pbsched'));
  await createSession(base(), 'sched-flow');
  const created = await ok(
    'POST',
    '/v1/schedules',
    schedule('sched-flow', { playbook_ref: ref, request: { content: 'hello', metadata: { a: 1 } } }),
    201,
  );
  assert.deepEqual(created.flow_start.playbook_ref, ref);
  assert.equal(created.request.content, 'hello');
  const runs: string[] = [];
  for (let i = 0; i < 2; i++) {
    const exec = await trigger(created.schedule_id);
    assert.equal(exec.status, 'dispatched', JSON.stringify(exec));
    runs.push(exec.run_id);
    await waitForRun(base(), exec.run_id, (r: any) => r.status === 'completed');
  }
  assert.notEqual(runs[0], runs[1]);
  const flows = await ok('GET', '/v1/flows?playbook_id=pbsched');
  assert.equal(flows.length, 2);
  assert.deepEqual(
    flows.map((f: any) => f.run_id),
    runs,
  );
  for (const f of flows) {
    const run = await ok('GET', `/v1/runs/${f.run_id}`);
    assert.equal(run.kind, 'scheduled_input');
    const md = run.input_metadata;
    assert.equal(md.a, 1);
    assert.equal(md.schedule_id, created.schedule_id);
    assert.equal(typeof md.scheduled_for_ms, 'number');
    assert.deepEqual(
      {
        flow_id: md.kheish_flow.flow_id,
        playbook_id: md.kheish_flow.playbook_id,
        version: md.kheish_flow.version,
        digest: md.kheish_flow.digest,
      },
      { flow_id: f.flow_id, ...ref },
    );
    assert.equal(f.session_id, 'sched-flow');
    assert.equal(f.metadata.schedule_id, created.schedule_id);
    const done = await waitFlow(f.flow_id, (v) => v.status === 'succeeded');
    assert.equal(done.run.status, 'completed');
  }
});

test('api-collab §3.5 flow_start: refused at creation like POST /v1/flows (digest, unstartable version, reserved metadata, two payloads)', async () => {
  const ref = await published(manifest('pbsched-bad'));
  await createSession(base(), 'sched-bad');
  assertProblem(
    await http(
      base(),
      'POST',
      '/v1/schedules',
      schedule('sched-bad', { playbook_ref: { ...ref, digest: 'nope' }, request: { content: 'x' } }),
    ),
    409,
    'playbooks',
    'digest_mismatch',
  );
  assertProblem(
    await http(
      base(),
      'POST',
      '/v1/schedules',
      schedule('sched-bad', { playbook_ref: ref, request: { content: 'x', metadata: { kheish_flow: {} } } }),
    ),
    400,
    'schedules',
    'invalid_schedule_request',
    'kheish_flow',
  );
  assertProblem(
    await http(
      base(),
      'POST',
      '/v1/schedules',
      schedule('sched-bad', { playbook_ref: ref }, { request: { content: 'x' } }),
    ),
    400,
    'schedules',
    'invalid_schedule_payload',
  );
  assertProblem(
    await http(base(), 'POST', '/v1/schedules', schedule('sched-bad', { playbook_ref: ref })),
    400,
    'schedules',
    'invalid_schedule_request',
  );
  const draft = await ok('POST', '/v1/playbooks', { manifest: manifest('pbsched-draft') });
  const dref = { playbook_id: 'pbsched-draft', version: '1.0.0', digest: draft.selected_version.digest };
  const res = await http(
    base(),
    'POST',
    '/v1/schedules',
    schedule('sched-bad', { playbook_ref: dref, request: { content: 'x' } }),
  );
  assert.equal(res.status, 409, res.text);
  assert.deepEqual(await ok('GET', '/v1/flows?session_id=sched-bad'), []);
});

test('api-collab §3.5 flow_start: a version revoked after creation skips the occurrence with the reason, no Flow, no run', async () => {
  const ref = await published(manifest('pbsched-rev'));
  await createSession(base(), 'sched-rev');
  const created = await ok(
    'POST',
    '/v1/schedules',
    schedule('sched-rev', { playbook_ref: ref, request: { content: 'hi' } }),
    201,
  );
  await ok('POST', '/v1/playbooks/pbsched-rev/revoke', {
    version: ref.version,
    digest: ref.digest,
    reason: 'bad',
    evidence_refs: REVIEW,
  });
  const exec = await trigger(created.schedule_id);
  assert.equal(exec.status, 'skipped', JSON.stringify(exec));
  assert.equal(exec.run_id, undefined);
  assert.match(exec.error, /not_startable|revoked/);
  assert.deepEqual(await ok('GET', '/v1/flows?playbook_id=pbsched-rev'), []);
  assert.deepEqual(await ok('GET', '/v1/runs?session_id=sched-rev'), []);
});
