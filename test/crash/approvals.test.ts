// Crash scenarios around approvals: SIGKILL while a run waits for approval, and between the
// approval and the resumed tool call. The tool is a real side effect (edit_file turns "n" into
// "nn" in the workspace), so running it twice would show as "nnn". No approval may be lost or
// applied twice, and a call whose outcome is unknown after the crash is never re-run blindly.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/daemon.ts';
import {
  api,
  createSession,
  getRun,
  ITERATIONS,
  randomInt,
  runEvents,
  runIterations,
  sleep,
  submitRun,
  waitFor,
  waitTerminal,
} from './crash-kit.ts';

const workspace = tempDir('kheish-crash-ws-');
const COUNT = ITERATIONS + 2;
const script = {
  rules: Array.from({ length: COUNT }, (_, k) => ({
    match: `^bump c${k}$`,
    turns: [
      {
        tool_calls: [{ name: 'edit_file', arguments: { path: `c${k}.txt`, old_text: 'n', new_text: 'nn' } }],
      },
      { text: `bumped c${k}` },
    ],
  })),
};
script.rules.push(
  ...Array.from({ length: COUNT }, (_, k) => ({
    match: `^shell s${k}$`,
    turns: [
      { tool_calls: [{ name: 'bash', arguments: { command: `sleep 0.3; echo x >> s${k}.log` } }] },
      { text: `ran s${k}` },
    ] as never,
  })),
);
const opts = { script, args: ['--workspace-root', workspace] };

async function parkedRun(url: string, k: number) {
  writeFileSync(join(workspace, `c${k}.txt`), 'n');
  const sid = await createSession(url);
  const run = await submitRun(url, sid, `bump c${k}`);
  return waitFor('the run to wait for approval', async () => {
    const r = await getRun(url, run.run_id);
    return r.status === 'waiting_for_approval' ? r : undefined;
  });
}

const approve = (
  url: string,
  run: { run_id: string; pending_approval_ids: string[] },
  extra: Record<string, unknown> = {},
) =>
  api(url, 'POST', `/v1/runs/${run.run_id}/approvals`, {
    resolutions: run.pending_approval_ids.map((id) => ({ request_id: id, behavior: 'allow', ...extra })),
  });

/** After a crash the run may ask about a call whose outcome is unknown: answer from the file. */
async function settle(
  url: string,
  runId: string,
  file: string,
  isApplied: (text: string) => boolean = (text) => text === 'nn',
): Promise<any> {
  for (let round = 0; round < 3; round++) {
    const run = await waitFor('the run to settle', async () => {
      const r = await getRun(url, runId);
      return ['completed', 'failed', 'cancelled', 'interrupted', 'waiting_for_approval'].includes(r.status)
        ? r
        : undefined;
    });
    if (run.status !== 'waiting_for_approval') return run;
    const unknown = run.pending_approvals.every(
      (a: { reason: string }) => a.reason === 'outcome_unknown_after_restart',
    );
    assert.ok(
      unknown,
      `after the approval only outcome-unknown questions may remain: ${JSON.stringify(run.pending_approvals)}`,
    );
    const applied = isApplied(existsSync(file) ? readFileSync(file, 'utf8') : '');
    await api(url, 'POST', `/v1/runs/${runId}/approvals`, {
      resolutions: run.pending_approval_ids.map((id: string) =>
        applied
          ? { request_id: id, behavior: 'deny', result: 'already applied before the crash' }
          : { request_id: id, behavior: 'allow' },
      ),
    });
  }
  throw new Error('run did not settle');
}

test(`crash: SIGKILL during an approval wait keeps the exact pending approval; approving after restart runs the tool once (${ITERATIONS} iterations)`, async () => {
  await runIterations(opts, async (rig, index) => {
    const k = index;
    const waiting = await parkedRun(rig.url, k);
    await rig.crashAndRestart();
    const after = await getRun(rig.url, waiting.run_id);
    assert.equal(after.status, 'waiting_for_approval');
    assert.deepEqual(
      after.pending_approval_ids,
      waiting.pending_approval_ids,
      'the same request survives the restart',
    );
    assert.deepEqual(after.pending_approvals[0].input, { path: `c${k}.txt`, old_text: 'n', new_text: 'nn' });
    await approve(rig.url, after);
    const [done] = await waitTerminal(rig.url, [waiting.run_id]);
    assert.equal(done.status, 'completed');
    assert.equal(readFileSync(join(workspace, `c${k}.txt`), 'utf8'), 'nn', 'the edit ran exactly once');
  });
});

test(`crash: SIGKILL between approval and resume: the approval is applied once and the tool never runs twice (${ITERATIONS} iterations)`, async () => {
  await runIterations(opts, async (rig, index) => {
    const k = COUNT - 1 - index;
    const waiting = await parkedRun(rig.url, k);
    await approve(rig.url, waiting, { justification: 'go' });
    await sleep(randomInt(0, 40));
    await rig.crashAndRestart();
    const file = join(workspace, `c${k}.txt`);
    const done = await settle(rig.url, waiting.run_id, file);
    assert.equal(done.status, 'completed', JSON.stringify(done));
    assert.equal(readFileSync(file, 'utf8'), 'nn', 'the edit ran exactly once');
    const events = await runEvents(rig.url, waiting.run_id);
    const resolved = events.filter((e: { type: string }) => e.type === 'approval_resolved');
    assert.ok(
      resolved.length >= 1 && resolved.length <= 2,
      'the operator approval once, plus at most one outcome-unknown answer',
    );
    assert.deepEqual(
      done.outputs.map((o: { content: string }) => o.content),
      [`bumped c${k}`],
    );
  });
});

test(`crash: SIGKILL during a bash call: the command is never re-run without an operator verdict, and runs once in the end (${ITERATIONS} iterations)`, async (t) => {
  let unknownAsked = 0;
  await runIterations(opts, async (rig, k) => {
    // Commands run without asking in this mode (persisted as a runtime revision, so it survives restarts).
    await api(rig.url, 'POST', '/v1/runtime/permission-mode', { mode: 'bypassPermissions' });
    const sid = await createSession(rig.url);
    const run = await submitRun(rig.url, sid, `shell s${k}`);
    const running = await waitFor('the run to be running', async () => {
      const r = await getRun(rig.url, run.run_id);
      return r.status === 'running' ? r : undefined;
    });
    await sleep(Math.max(0, running.started_at_ms + randomInt(60, 250) - Date.now()));
    await rig.crashAndRestart();
    // A command the dead daemon started may still finish on its own: let it, then look.
    await sleep(500);
    const after = await getRun(rig.url, run.run_id);
    if (after.status === 'waiting_for_approval') unknownAsked++;
    const file = join(workspace, `s${k}.log`);
    const done = await settle(rig.url, run.run_id, file, (text) => text.includes('x'));
    assert.equal(done.status, 'completed', JSON.stringify(done));
    assert.equal(readFileSync(file, 'utf8'), 'x\n', 'the command took effect exactly once');
  });
  t.diagnostic(`${unknownAsked}/${ITERATIONS} kills landed inside the bash call and asked the operator`);
});
