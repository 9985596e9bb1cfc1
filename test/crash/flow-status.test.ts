// Crash scenario (issue 18): the daemon dies while a Flow's root run has a sidechain running or
// waits on a write approval. After the restart the Flow's derived status is read again from the
// same primitives: it is never terminal while the root run is live, it settles to `succeeded` once
// the approval is resolved, the sidechain was spawned exactly once, and the settled view does not
// change on later reads (both stores: KHEISH_TEST_STORE=postgres).
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { tempDir } from '../helpers/daemon.ts';
import {
  api,
  assertQuiescent,
  createSession,
  getRun,
  ITERATIONS,
  KillAim,
  randomInt,
  runIterations,
  sleep,
  waitFor,
} from './crash-kit.ts';

const SCRIPT = {
  rules: [
    {
      match: '^flow-full',
      turns: [
        { tool_calls: [{ name: 'spawn_agent', arguments: { name: 'helper', prompt: 'child work' } }] },
        { tool_calls: [{ name: 'wait_agent', arguments: {} }] },
        { tool_calls: [{ name: 'write_file', arguments: { path: 'flow-report.md', content: '# report' } }] },
        { text: 'flow finished' },
      ],
    },
    { match: '^child work', turns: [{ delay_ms: 400, text: 'child result' }] },
  ],
};
const TERMINAL_RUN = ['completed', 'failed', 'cancelled', 'interrupted'];

async function ok(url: string, method: string, path: string, body?: unknown) {
  const res = await api(url, method, path, body);
  assert.ok(res.status >= 200 && res.status < 300, `${method} ${path}: ${res.status} ${res.text}`);
  return res.body;
}

test(`crash: SIGKILL during a Flow (sidechain running or approval pending); after restart its derived status settles to succeeded once (${ITERATIONS} iterations)`, async (t) => {
  const aim = new KillAim();
  const workspace = tempDir('kheish-flow-crash-');
  try {
    await runIterations({ script: SCRIPT, args: ['--workspace-root', workspace] }, async (rig, index) => {
      const sid = await createSession(rig.url);
      const pid = `crash-flow-${index}`;
      const created = await ok(rig.url, 'POST', '/v1/playbooks', {
        manifest: { playbook_id: pid, version: '1', title: 'Crash', objective: 'Survive a crash' },
      });
      const ref = { playbook_id: pid, version: '1', digest: created.selected_version.digest };
      await ok(rig.url, 'POST', `/v1/playbooks/${pid}/publish`, {
        ...ref,
        evidence_refs: [{ kind: 'manual', id: 'ok' }],
      });
      const flow = await ok(rig.url, 'POST', '/v1/flows', {
        flow_id: `flow-${index}`,
        playbook_ref: ref,
        session_id: sid,
        request: { content: 'flow-full' },
      });
      await sleep(randomInt(50, 900));
      const before = await ok(rig.url, 'GET', `/v1/flows/${flow.flow_id}`);
      aim.record(['running', 'waiting'].includes(before.status), `flow was ${before.status}`);
      await rig.crashAndRestart();

      const seen: string[] = [];
      const settled = await waitFor(
        'the flow to settle',
        async () => {
          // The view's own run is the row its status was derived from (one read).
          const view = await ok(rig.url, 'GET', `/v1/flows/${flow.flow_id}`);
          const run = view.run;
          seen.push(view.status);
          if (!TERMINAL_RUN.includes(run.status))
            assert.ok(
              ['pending', 'running', 'waiting'].includes(view.status),
              `flow ${view.status} while run ${run.status}`,
            );
          // Write approvals and outcome-unknown questions after the crash: the operator allows them.
          const live = await getRun(rig.url, flow.run_id);
          if (live.status === 'waiting_for_approval' && live.pending_approval_ids?.length)
            await ok(rig.url, 'POST', `/v1/runs/${flow.run_id}/approvals`, {
              resolutions: live.pending_approval_ids.map((id: string) => ({
                request_id: id,
                behavior: 'allow',
              })),
            });
          return TERMINAL_RUN.includes(run.status) && view.status !== 'running' ? view : undefined;
        },
        20_000,
      );
      assert.equal(settled.status, 'succeeded', `statuses seen: ${seen.join(' → ')}`);
      assert.equal(settled.run.status, 'completed');
      assert.equal(settled.primitive_refs.agent_ids.length, 1, 'the sidechain was spawned once');
      assert.ok(settled.primitive_refs.approval_ids.length >= 1);
      assert.ok(settled.completed_at_ms);
      const again = await ok(rig.url, 'GET', `/v1/flows/${flow.flow_id}`);
      assert.equal(again.status, 'succeeded');
      assert.equal(again.completed_at_ms, settled.completed_at_ms, 'the settled boundary is kept');
      await assertQuiescent(rig.url, 'after restart:');
    });
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
  t.diagnostic(aim.assertMostlyHit('a live flow'));
});
