// Crash scenario: the daemon dies inside a group commit, with several sessions' steps in one
// transaction (store.ts). The fault hook (store/group-commit-fault.ts) SIGKILLs the process at a
// multi-writer group right before its COMMIT (none of it durable) or right after it (all of it
// durable, no caller answered). After the restart each run resumes from its own last durable
// boundary: nothing acknowledged is lost, no turn is journaled twice, no tool result is recorded
// twice, no write runs twice without an operator's verdict, and every run completes.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startDaemon, type TestDaemon, tempDir } from '../helpers/daemon.ts';
import { jsonColumn, queryState } from '../helpers/state-query.ts';
import {
  api,
  assertCleanRun,
  assertQuiescent,
  createSession,
  getRun,
  ITERATIONS,
  KillAim,
  randomInt,
  runEvents,
  waitFor,
} from './crash-kit.ts';

const SESSIONS = 6;
const file = (k: number, part: string) => `w${k}-${part}.txt`;
/** Per session: write (a side effect), read (fused with its turn), write again, answer. */
const SCRIPT = {
  rules: Array.from({ length: SESSIONS }, (_, k) => ({
    match: `^work w${k}$`,
    turns: [
      { tool_calls: [{ name: 'write_file', arguments: { path: file(k, 'a'), content: 'a' } }] },
      { tool_calls: [{ name: 'read_file', arguments: { path: file(k, 'a') } }] },
      { tool_calls: [{ name: 'write_file', arguments: { path: file(k, 'b'), content: 'b' } }] },
      { text: `done w${k}` },
    ],
  })),
};

/** Journal rows of one run, straight from the daemon's database. */
async function journalOf(daemon: TestDaemon, runId: string): Promise<Array<{ kind: string; payload: any }>> {
  const rows = await queryState<{ kind: string; payload: unknown }>(
    daemon,
    'select kind, payload from journal where run_id = ? order by seq',
    [runId],
  );
  return rows.map((r) => ({ kind: r.kind, payload: jsonColumn(r.payload) }));
}

/** Answers what the restarted run asks: an unknown outcome from the file itself, a plain ask with allow. */
async function settle(
  url: string,
  workspace: string,
  runId: string,
  reruns: Map<string, number>,
): Promise<void> {
  for (let round = 0; round < 6; round++) {
    const run = await waitFor('the run to settle', async () => {
      const r = await getRun(url, runId);
      return ['completed', 'failed', 'cancelled', 'interrupted', 'waiting_for_approval'].includes(r.status)
        ? r
        : undefined;
    });
    if (run.status !== 'waiting_for_approval') return;
    const resolutions = run.pending_approvals.map((a: any) => {
      if (a.reason !== 'outcome_unknown_after_restart') return { request_id: a.id, behavior: 'allow' };
      const path = join(workspace, a.input.path);
      if (existsSync(path) && readFileSync(path, 'utf8') === a.input.content)
        return { request_id: a.id, behavior: 'deny', result: 'written before the crash' };
      reruns.set(a.tool_call_id, (reruns.get(a.tool_call_id) ?? 0) + 1);
      return { request_id: a.id, behavior: 'allow' };
    });
    const res = await api(url, 'POST', `/v1/runs/${runId}/approvals`, { resolutions });
    assert.ok(res.status < 300, `approvals: ${res.text}`);
  }
  assert.fail(`run ${runId} did not settle`);
}

async function assertJournal(
  daemon: TestDaemon,
  runId: string,
  reruns: Map<string, number>,
  ctx: string,
): Promise<void> {
  const entries = await journalOf(daemon, runId);
  const turns = entries.filter((e) => e.kind === 'assistant_message').map((e) => e.payload.call_index);
  assert.deepEqual(turns, [0, 1, 2, 3], `${ctx}: each model turn journaled once, in order`);
  const results = new Map<string, number>();
  const starts = new Map<string, number>();
  for (const e of entries) {
    const id = e.payload.tool_call_id as string;
    if (e.kind === 'tool_result') results.set(id, (results.get(id) ?? 0) + 1);
    if (e.kind === 'tool_call_started') starts.set(id, (starts.get(id) ?? 0) + 1);
  }
  assert.equal(results.size, 3, `${ctx}: a result for each of the three calls`);
  for (const [id, n] of results) assert.equal(n, 1, `${ctx}: call ${id} has one result`);
  for (const [id, n] of starts)
    assert.ok(n <= 1 + (reruns.get(id) ?? 0), `${ctx}: call ${id} started ${n} times without a verdict`);
}

test(`crash: SIGKILL inside a group commit holding several sessions' steps; each run resumes from its own last durable boundary (${ITERATIONS} iterations)`, async (t) => {
  const aim = new KillAim();
  for (let i = 0; i < ITERATIONS; i++) {
    const point = i % 2 === 0 ? 'before' : 'after';
    const workspace = tempDir('kheish-crash-group-ws-');
    let daemon: TestDaemon = await startDaemon({
      script: SCRIPT,
      args: ['--workspace-root', workspace],
      env: { KHEISH_FAULT_KILL_IN_GROUP_COMMIT: `${point}:${randomInt(1, 6)}` },
    });
    const where = `iteration ${i + 1} (${point} commit)`;
    try {
      const mode = await api(daemon.url, 'POST', '/v1/runtime/permission-mode', { mode: 'acceptEdits' });
      assert.equal(mode.status, 200, mode.text);
      // One by one: only the runs' own writes may share groups (the fault counts those groups).
      const sessions: string[] = [];
      for (let k = 0; k < SESSIONS; k++) sessions.push(await createSession(daemon.url));
      // Submitted together, so their steps become ready together and share groups.
      const submits = await Promise.allSettled(
        sessions.map((sid, k) =>
          api(daemon.url, 'POST', `/v1/sessions/${sid}/runs`, { content: `work w${k}` }),
        ),
      );
      const acked = new Map<number, string>();
      submits.forEach((s, k) => {
        if (s.status === 'fulfilled' && s.value.status === 202) acked.set(k, s.value.body.run_id);
      });
      // The hook kills the daemon; if the runs finished before a multi-writer group came, kill it here.
      const exited = await Promise.race([
        new Promise((r) => daemon.proc.once('exit', () => r(true))),
        new Promise((r) => setTimeout(() => r(false), 10_000)),
      ]);
      if (!exited) await daemon.kill();
      const marker = join(daemon.stateRoot, 'fault-group-commit.json');
      const landed = existsSync(marker) ? JSON.parse(readFileSync(marker, 'utf8')) : null;
      aim.record(landed !== null, `${where}: no multi-writer group before the runs finished`);
      if (landed) assert.ok(landed.writers >= 2, `${where}: the kill landed in a group of ${landed.writers}`);
      rmSync(marker, { force: true });

      daemon = await daemon.restart({ env: {} });
      const reruns = new Map<string, number>();
      for (const runId of acked.values()) await settle(daemon.url, workspace, runId, reruns);
      for (const [k, runId] of acked) {
        const run = await getRun(daemon.url, runId);
        assertCleanRun(run, await runEvents(daemon.url, runId), [`done w${k}`], where);
        await assertJournal(daemon, runId, reruns, `${where} run ${runId}`);
        assert.equal(readFileSync(join(workspace, file(k, 'a')), 'utf8'), 'a', `${where}: first write`);
        assert.equal(readFileSync(join(workspace, file(k, 'b')), 'utf8'), 'b', `${where}: second write`);
      }
      await assertQuiescent(daemon.url, where);
    } catch (err) {
      if (err instanceof Error)
        err.message += `\n--- daemon log\n${daemon.logs().split('\n').slice(-30).join('\n')}`;
      throw err;
    } finally {
      await daemon.kill().catch(() => undefined);
      await daemon.cleanup();
      rmSync(workspace, { recursive: true, force: true });
    }
  }
  t.diagnostic(aim.assertMostlyHit('a group commit with several writers'));
});
