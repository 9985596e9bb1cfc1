// Flows conformance (api-collab §3.5–3.7; checklist #33–#40 and decisions 393–396): start rules,
// kheish_flow metadata, idempotent retries, derived status through a sidechain, an approval and
// an output, evidence gates, fail-closed failures, the scope gate, the tool policy at dispatch and
// the stream proxy. Both stores (KHEISH_TEST_STORE=postgres).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { collectSse, http, waitForRun } from '../helpers/daemon.ts';
import { manifest, playbooksDaemon } from './playbooks-support.ts';
import { assertProblem, createSession } from './support.ts';

const { base, ok, published, startFlow, waitFlow, workspace } = playbooksDaemon();

test('api-collab #33: request.metadata carrying kheish_flow is rejected, and a non-object metadata too', async () => {
  const ref = await published(manifest('pb33'));
  await createSession(base(), 's33');
  for (const [metadata, code] of [
    [{ kheish_flow: { flow_id: 'x' } }, 'reserved_metadata'],
    ['text', 'invalid_request'],
  ] as const)
    assertProblem(
      await http(base(), 'POST', '/v1/flows', {
        playbook_ref: ref,
        session_id: 's33',
        request: { content: 'hi', metadata },
      }),
      400,
      'flows',
      code,
    );
  assert.deepEqual(await ok('GET', '/v1/runs?session_id=s33'), []);
});

test('api-collab #34: the root run carries kheish_flow with flow_id, playbook_id, version, digest and a nonce', async () => {
  const ref = await published(manifest('pb34'));
  const flow = await startFlow(ref, 's34', 'hello', {
    flow_id: 'flow-34',
    request: { content: 'hello', metadata: { a: 1 } },
  });
  assert.equal(flow.flow_id, 'flow-34');
  const events = await ok('GET', `/v1/runs/${flow.run_id}/events`);
  const accepted = events.find((e: any) => e.event?.type === 'accepted' || e.type === 'accepted');
  assert.ok(accepted, JSON.stringify(events.slice(0, 2)));
  const rows = await ok('GET', `/v1/runs/${flow.run_id}`);
  assert.equal(rows.session_id, 's34');
  const meta = await runMetadata(flow.run_id);
  assert.equal(meta.a, 1);
  const k = meta.kheish_flow;
  assert.deepEqual(
    { flow_id: k.flow_id, playbook_id: k.playbook_id, version: k.version, digest: k.digest },
    { flow_id: 'flow-34', ...ref },
  );
  assert.equal(typeof k.nonce, 'string');
  assert.ok(k.nonce.length > 0);
  const done = await waitFlow('flow-34', (f) => f.status === 'succeeded');
  assert.equal(done.run.status, 'completed');
  assert.ok(done.completed_at_ms >= done.created_at_ms);
});

/** The run's submitted metadata, as the run view shows it. */
async function runMetadata(runId: string): Promise<any> {
  const res = await ok('GET', `/v1/runs/${runId}`);
  assert.ok(res.input_metadata, JSON.stringify(res));
  return res.input_metadata;
}

test('api-collab #35: an identical retry returns the same flow and run; a changed request under the same flow_id → 409', async () => {
  const ref = await published(manifest('pb35'));
  await createSession(base(), 's35');
  const body = {
    flow_id: 'flow-35',
    idempotency_key: 'k35',
    playbook_ref: ref,
    session_id: 's35',
    request: { content: 'hi' },
  };
  const one = await ok('POST', '/v1/flows', body);
  const two = await ok('POST', '/v1/flows', JSON.parse(JSON.stringify(body)));
  assert.equal(two.flow_id, one.flow_id);
  assert.equal(two.run_id, one.run_id);
  assertProblem(
    await http(base(), 'POST', '/v1/flows', { ...body, request: { content: 'other' } }),
    409,
    'flows',
    'flow_conflict',
  );
  assertProblem(
    await http(base(), 'POST', '/v1/flows', { ...body, metadata: { x: 1 } }),
    409,
    'flows',
    'flow_conflict',
  );
  // Without flow_id, the idempotency key on the session names the flow.
  const { flow_id: _, ...keyed } = { ...body, idempotency_key: 'k35b' };
  const a = await ok('POST', '/v1/flows', keyed);
  const b = await ok('POST', '/v1/flows', keyed);
  assert.equal(a.flow_id, b.flow_id);
  assert.match(a.flow_id, /^flow-/);
  assert.equal((await ok('GET', '/v1/runs?session_id=s35')).length, 2);
});

test('api-collab #36: missing manual evidence keeps a completed flow from succeeding until it is appended', async () => {
  const ref = await published(
    manifest('pb36', {
      required_evidence: [{ kind: 'manual', id: 'review' }],
      phases: [
        { phase_id: 'ship', objective: 'Ship', required_evidence: [{ kind: 'run', id: 'never-a-run' }] },
      ],
    }),
  );
  const flow = await startFlow(ref, 's36', 'hello', { flow_id: 'flow-36' });
  await waitForRun(base(), flow.run_id);
  const held = await ok('GET', '/v1/flows/flow-36');
  assert.equal(held.run.status, 'completed');
  assert.notEqual(held.status, 'succeeded');
  assert.equal(held.status, 'waiting', 'decision 393: missing evidence shows waiting');
  assert.equal(held.contract.passed, false);
  assert.match(
    held.contract.checks.find((c: any) => c.name === 'required_evidence').details,
    /manual:review/,
  );
  assert.deepEqual(held.phase_states, [
    { phase_id: 'ship', status: 'blocked', missing_evidence: ['run:never-a-run'] },
  ]);
  // A primitive kind must resolve inside the flow: an unknown run id is refused.
  assertProblem(
    await http(base(), 'POST', '/v1/flows/flow-36/evidence', {
      evidence_refs: [{ kind: 'run', id: 'never-a-run' }],
    }),
    409,
    'flows',
    'evidence_unresolved',
  );
  await ok('POST', '/v1/flows/flow-36/evidence', { evidence_refs: [{ kind: 'manual', id: 'review' }] });
  const still = await ok('GET', '/v1/flows/flow-36');
  assert.equal(still.status, 'waiting', 'the phase still misses its run evidence');
  // Change the phase's requirement to the real root run: a new version of the playbook.
  const ref2 = await published({
    ...manifest('pb36b', { required_evidence: [{ kind: 'manual', id: 'review' }] }),
  });
  const flow2 = await startFlow(ref2, 's36b', 'hello', { flow_id: 'flow-36b' });
  await waitForRun(base(), flow2.run_id);
  assert.equal((await ok('GET', '/v1/flows/flow-36b')).status, 'waiting');
  const after = await ok('POST', '/v1/flows/flow-36b/evidence', {
    evidence_refs: [{ kind: 'manual', id: 'review' }],
  });
  assert.equal(after.status, 'succeeded');
  assert.equal(after.run.status, 'completed');
  assert.equal(after.contract.passed, true);
});

test('api-collab #37: appending the same {kind,id} twice keeps one entry', async () => {
  const ref = await published(manifest('pb37'));
  const flow = await startFlow(ref, 's37', 'hello', { flow_id: 'flow-37' });
  const ev = { evidence_refs: [{ kind: 'doc_review', id: 'r1', description: 'first' }] };
  await ok('POST', '/v1/flows/flow-37/evidence', ev);
  const twice = await ok('POST', '/v1/flows/flow-37/evidence', {
    evidence_refs: [
      { kind: 'doc_review', id: 'r1', description: 'again' },
      { kind: 'flow', id: 'flow-37' },
      { kind: 'run', id: flow.run_id },
    ],
  });
  assert.deepEqual(
    twice.evidence_refs.map((e: any) => `${e.kind}:${e.id}`),
    ['doc_review:r1', 'flow:flow-37', `run:${flow.run_id}`],
  );
  assert.equal(twice.evidence_refs[0].description, 'first');
});

test('api-collab #38: a failed root run never reports succeeded; cancel delegates to the root run', async () => {
  const ref = await published(manifest('pb38'));
  const failed = await startFlow(ref, 's38', 'fail now', { flow_id: 'flow-38' });
  await waitForRun(base(), failed.run_id);
  const f = await ok('GET', '/v1/flows/flow-38');
  assert.equal(f.run.status, 'failed');
  assert.equal(f.status, 'failed');
  const hung = await startFlow(ref, 's38b', 'hang here', { flow_id: 'flow-38b' });
  await waitFlow('flow-38b', (x) => x.status === 'running');
  const cancelled = await ok('POST', '/v1/flows/flow-38b/cancel');
  assert.equal(cancelled.flow_id, 'flow-38b');
  await waitForRun(base(), hung.run_id);
  const c = await waitFlow('flow-38b', (x) => x.status === 'cancelled');
  assert.equal(c.run.status, 'cancelled');
  // A terminal root run stays terminal.
  const again = await ok('POST', '/v1/flows/flow-38/cancel');
  assert.equal(again.run.status, 'failed');
  assert.equal(again.status, 'failed');
  assert.deepEqual(
    (await ok('GET', '/v1/flows?status=failed'))
      .map((x: any) => x.flow_id)
      .filter((id: string) => id.startsWith('flow-38')),
    ['flow-38'],
  );
});

test('api-collab #38: a failed scoped task (a background shell task exiting 3) keeps a completed root run from succeeding; a blocked task shows waiting', async () => {
  const ref = await published(manifest('pb38t'));
  await ok('POST', '/v1/runtime/permission-mode', { mode: 'bypassPermissions' });
  try {
    const failing = await startFlow(ref, 's38t', 'task-fail', { flow_id: 'flow-38t' });
    assert.equal((await waitForRun(base(), failing.run_id)).status, 'completed');
    const f = await waitFlow('flow-38t', (x) => x.status !== 'running');
    assert.equal(f.status, 'failed', JSON.stringify(f.primitive_refs));
    assert.equal(f.run.status, 'completed');
    assert.equal(f.primitive_refs.task_ids.length, 1);
    const task = await ok('GET', `/v1/sessions/s38t/tasks/${f.primitive_refs.task_ids[0]}`);
    assert.equal(task.status, 'failed');
    const blocked = await startFlow(ref, 's38u', 'task-block', { flow_id: 'flow-38u' });
    assert.equal((await waitForRun(base(), blocked.run_id)).status, 'completed');
    assert.equal((await ok('GET', '/v1/flows/flow-38u')).status, 'waiting');
  } finally {
    await ok('POST', '/v1/runtime/permission-mode', { mode: 'default' });
  }
});

test('api-collab #39: a session whose capability scope is wider than required is refused, and no run is created', async () => {
  const ref = await published(
    manifest('pb39', { scopes: { required_capability_scope: { skill_allow: ['review'] } } }),
  );
  await createSession(base(), 's39');
  const res = await http(base(), 'POST', '/v1/flows', {
    playbook_ref: ref,
    session_id: 's39',
    request: { content: 'hi' },
  });
  assertProblem(res, 403, 'flows', 'scope_too_wide');
  assert.deepEqual(await ok('GET', '/v1/runs?session_id=s39'), []);
  const narrow = await http(base(), 'POST', '/v1/sessions', {
    session_id: 's39n',
    capability_scope: { skill_allow: ['review'] },
  });
  assert.equal(narrow.status, 201, narrow.text);
  const flow = await ok('POST', '/v1/flows', {
    playbook_ref: ref,
    session_id: 's39n',
    request: { content: 'hi' },
  });
  assert.ok(flow.run_id);
  const wider = await http(base(), 'POST', '/v1/sessions', {
    session_id: 's39w',
    capability_scope: { skill_allow: ['review', 'deploy'] },
  });
  assert.equal(wider.status, 201, wider.text);
  const refused = await http(base(), 'POST', '/v1/flows', {
    playbook_ref: ref,
    session_id: 's39w',
    request: { content: 'hi' },
  });
  assertProblem(refused, 403, 'flows', 'scope_too_wide');
  assert.match(refused.body.detail, /deploy/);
});

test('api-collab #40: the flow stream delivers the same data events as the root run stream', async () => {
  const ref = await published(manifest('pb40'));
  const flow = await startFlow(ref, 's40', 'hello', { flow_id: 'flow-40' });
  await waitForRun(base(), flow.run_id);
  // Replay from the start: the run is settled, so both streams replay its stored events.
  const headers = { 'last-event-id': '0' };
  const viaFlow = await collectSse(`${base()}/v1/flows/flow-40/stream`, { headers, timeoutMs: 1500 });
  const viaRun = await collectSse(`${base()}/v1/runs/${flow.run_id}/stream`, { headers, timeoutMs: 1500 });
  assert.equal(viaFlow.status, 200);
  const data = (fs: any[]) =>
    fs.filter((f) => f.id !== undefined).map((f) => [f.id, f.event, JSON.stringify(f.data)]);
  assert.ok(data(viaRun.frames).length > 0);
  assert.deepEqual(data(viaFlow.frames), data(viaRun.frames));
  assertProblem(await http(base(), 'GET', '/v1/flows/nope/stream'), 404, 'flows', 'flow_not_found');
});

test('decision 393: the derived status walks running → waiting → succeeded through a sidechain, an approval and an output', async () => {
  const ref = await published(manifest('pb-walk'));
  const flow = await startFlow(ref, 's-walk', 'flow-full', { flow_id: 'flow-walk' });
  const seen = new Set<string>();
  const parked = await waitFlow('flow-walk', (f) => {
    seen.add(f.status);
    return f.status === 'waiting';
  });
  assert.ok(seen.has('running') || seen.has('pending'), [...seen].join(','));
  assert.equal(parked.run.status, 'waiting_for_approval');
  assert.equal(parked.primitive_refs.agent_ids.length, 1, 'the sidechain is in the projection');
  assert.equal(parked.primitive_refs.run_ids.length, 2, 'root run and the child launch run');
  assert.equal(parked.primitive_refs.approval_ids.length, 1);
  assert.equal(parked.completed_at_ms, null);
  const run = await ok('GET', `/v1/runs/${flow.run_id}`);
  const resolved = await http(base(), 'POST', `/v1/runs/${flow.run_id}/approvals`, {
    resolutions: run.pending_approval_ids.map((id: string) => ({ request_id: id, behavior: 'allow' })),
  });
  assert.ok(resolved.status < 300, resolved.text);
  const done = await waitFlow('flow-walk', (f) => f.status === 'succeeded');
  assert.ok(existsSync(join(workspace(), 'flow-report.md')));
  assert.equal(done.primitive_refs.approval_ids.length, 1, 'a resolved approval stays in the projection');
  assert.ok(done.primitive_refs.output_ids.length >= 1);
  assert.ok(done.completed_at_ms);
});

test('issue 18: a Flow with two sidechains, a scoped task, approvals and an output walks to succeeded', async () => {
  const ref = await published(manifest('pb-two'));
  const flow = await startFlow(ref, 's-two', 'flow-two', { flow_id: 'flow-two' });
  const parked = await waitFlow('flow-two', (f) => f.status === 'waiting');
  assert.equal(parked.run.status, 'waiting_for_approval');
  assert.equal(parked.primitive_refs.agent_ids.length, 2, 'both sidechains are in the projection');
  assert.equal(parked.completed_at_ms, null);
  // The shell task and the write each ask (default permission mode): allow each as it comes.
  const allowed = new Set<string>();
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const f = await ok('GET', '/v1/flows/flow-two');
    if (f.status === 'succeeded') break;
    const pending: string[] = f.run?.pending_approval_ids ?? [];
    const fresh = pending.filter((id) => !allowed.has(id));
    if (fresh.length > 0) {
      const resolved = await http(base(), 'POST', `/v1/runs/${flow.run_id}/approvals`, {
        resolutions: fresh.map((id) => ({ request_id: id, behavior: 'allow' })),
      });
      assert.ok(resolved.status < 300, resolved.text);
      for (const id of fresh) allowed.add(id);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const approvals = allowed.size;
  assert.ok(approvals >= 1);
  const done = await waitFlow('flow-two', (f) => f.status === 'succeeded');
  assert.ok(existsSync(join(workspace(), 'two-report.md')));
  assert.equal(done.primitive_refs.agent_ids.length, 2);
  assert.ok(
    done.primitive_refs.task_ids.length >= 1,
    `the scoped shell task: ${JSON.stringify(done.primitive_refs)}`,
  );
  assert.equal(done.primitive_refs.approval_ids.length, approvals, 'every approval stays in the projection');
  assert.ok(done.primitive_refs.output_ids.length >= 1);
});

test('api-collab §3.3: an enforced tool policy denies a tool outside it at dispatch, for the root run and its children', async () => {
  const ref = await published(
    manifest('pb-tools', { tools: { enforce: true, allow: ['read_file', 'spawn_agent', 'wait_agent'] } }),
  );
  const flow = await startFlow(ref, 's-tools', 'use-bash', { flow_id: 'flow-tools' });
  const done = await waitForRun(base(), flow.run_id);
  assert.equal(done.status, 'completed');
  const events = await ok('GET', `/v1/runs/${flow.run_id}/events`);
  const text = JSON.stringify(events);
  assert.ok(text.includes('not in this agent'), 'bash was refused at dispatch');
  assert.ok(!text.includes('bash-ran'), 'bash never ran');
  const view = await ok('GET', '/v1/flows/flow-tools');
  assert.equal(
    view.contract.checks.find((c: any) => c.name === 'tool_policy').passed,
    true,
    'a refused call is not a use',
  );
  // A child spawned by a Flow run is held to the same policy.
  const parent = await startFlow(ref, 's-tools-child', 'child-bash', { flow_id: 'flow-tools-child' });
  assert.equal((await waitForRun(base(), parent.run_id)).status, 'completed');
  const child = await waitFlow('flow-tools-child', (f) => f.status === 'succeeded');
  const childRun = child.primitive_refs.run_ids.find((id: string) => id !== parent.run_id);
  assert.ok(childRun, JSON.stringify(child.primitive_refs));
  const childText = JSON.stringify(await ok('GET', `/v1/runs/${childRun}/events`));
  assert.ok(childText.includes('not in this agent'), 'the child was refused bash at dispatch');
  assert.ok(!childText.includes('bash-ran'));
  // The same input outside a flow reaches bash's normal permission check (it asks).
  await createSession(base(), 's-free');
  const free = await ok('POST', '/v1/sessions/s-free/runs', { content: 'use-bash' }, 202);
  const asks = await waitForRun(base(), free.run_id, (r) => r.status !== 'queued' && r.status !== 'running');
  assert.equal(asks.status, 'waiting_for_approval');
  assert.equal(asks.pending_approvals[0].tool_name, 'bash');
  await ok('POST', `/v1/runs/${free.run_id}/cancel`);
});
