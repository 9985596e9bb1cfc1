// Failover between two replicas on one PostgreSQL database (issue 11). Replica A executes a run;
// A dies (SIGKILL) during a model call, during a side-effecting tool call, or while the run waits
// for approval; or A is frozen (SIGSTOP) until its lease moved, then thawed. Replica B must take
// each run over: nothing accepted is lost, no side effect runs twice, a run whose side effect has
// an unknown outcome asks an operator, the frozen replica writes nothing after thawing, and a
// stream held on B sees every event exactly once, in id order, also when replayed.
// Always on PostgreSQL (its own schema per scenario), whatever KHEISH_TEST_STORE says.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  api,
  assertCleanRun,
  createSession,
  getRun,
  type LiveStream,
  openStream,
  runEvents,
  sleep,
  submitRun,
  waitFor,
  waitForFrame,
  waitTerminal,
} from '../crash/crash-kit.ts';
import { tempDir } from '../helpers/daemon.ts';
import { type ReplicaPair, startReplicaPair } from '../helpers/replica-pair.ts';
import { queryState } from '../helpers/state-query.ts';

/** Short leases so a dead replica's runs move within about a second. */
const LEASE_TTL_MS = 1000;

interface Pair extends ReplicaPair {
  workspace: string;
}

async function startPair(script: unknown): Promise<Pair> {
  const workspace = tempDir('kheish-failover-ws-');
  const pair = await startReplicaPair({
    script,
    args: ['--lease-ttl-ms', String(LEASE_TTL_MS), '--workspace-root', workspace],
  });
  return { ...pair, workspace };
}

/** Durable frames of a stream: an id whose low 20 bits are zero (live-only deltas fill those bits). */
const durable = (s: LiveStream) =>
  s.frames.filter((f) => f.id !== undefined && (BigInt(f.id) & 0xfffffn) === 0n);

/** Every durable event on the held stream exactly once, ids increasing, and the same as a replay. */
async function assertStreamExact(url: string, path: string, held: LiveStream, where: string): Promise<void> {
  const ids = durable(held).map((f) => BigInt(f.id!));
  for (let i = 1; i < ids.length; i++)
    assert.ok(ids[i]! > ids[i - 1]!, `${where}: stream ids strictly increase (${ids[i - 1]} then ${ids[i]})`);
  assert.ok(ids.length > 0, `${where}: the held stream saw events`);
  // A fresh replay from before the first held id returns exactly the same durable events.
  const replay = await openStream(`${url}${path}`, { 'last-event-id': String(ids[0]! - 1n) });
  await waitFor(`${where}: replay to reach the last held id`, async () =>
    durable(replay).some((f) => BigInt(f.id!) >= ids.at(-1)!),
  );
  replay.close();
  const replayed = durable(replay)
    .map((f) => BigInt(f.id!))
    .filter((id) => id <= ids.at(-1)!);
  assert.deepEqual(replayed, ids, `${where}: replay on the survivor equals the held stream`);
}

async function takenOver(stream: LiveStream, runId: string) {
  return waitForFrame(
    stream,
    'the take-over trace on the survivor',
    (f) => f.event === 'trace' && f.data?.trace?.kind === 'run_taken_over' && f.data?.trace?.run_id === runId,
  );
}

/** A session watched from replica B, and a slow run submitted to replica A and running there. */
async function slowRunOnA(pair: Pair) {
  const sid = await createSession(pair.a.url);
  const path = `/v1/sessions/${sid}/stream`;
  const held = await openStream(`${pair.b.url}${path}`);
  const run = await submitRun(pair.a.url, sid, 'think slowly');
  await waitFor(
    'the run to be running on A',
    async () => (await getRun(pair.a.url, run.run_id)).status === 'running',
  );
  return { path, held, run };
}

/** Once the held stream saw the run complete: close it and check it against a replay. */
async function closeAfterCompletion(url: string, path: string, held: LiveStream, where: string) {
  await waitForFrame(
    held,
    'completed on the held stream',
    (f) => f.event === 'run_updated' && f.data?.run?.status === 'completed',
  );
  held.close();
  await assertStreamExact(url, path, held, where);
}

test('replicas: SIGKILL of the replica during a model call; the other resumes the run, one output, every event once on its stream', async () => {
  const pair = await startPair({ default: { turns: [{ delay_ms: 1500, text: 'slow answer' }] } });
  try {
    const { a, b } = pair;
    const { path, held, run } = await slowRunOnA(pair);
    await sleep(300);
    await a.kill();
    const trace = await takenOver(held, run.run_id);
    assert.equal(trace.data.trace.replica !== undefined, true);
    const [final] = await waitTerminal(b.url, [run.run_id], 20_000);
    assertCleanRun(final, await runEvents(b.url, run.run_id), ['slow answer'], 'after failover:');
    await closeAfterCompletion(b.url, path, held, 'model-call failover');
  } finally {
    await pair.stop();
  }
});

test('replicas: SIGKILL during a side-effecting tool call; the survivor never re-runs it and asks an operator', async () => {
  const script = {
    default: {
      turns: [
        {
          tool_calls: [
            {
              name: 'bash',
              arguments: { command: 'echo start >> effect.log; sleep 2; echo end >> effect.log' },
            },
          ],
        },
        { text: 'done' },
      ],
    },
  };
  const pair = await startPair(script);
  try {
    const { a, b, workspace } = pair;
    const mode = await api(a.url, 'POST', '/v1/runtime/permission-mode', { mode: 'bypassPermissions' });
    assert.equal(mode.status, 200, mode.text);
    const file = join(workspace, 'effect.log');
    const sid = await createSession(a.url);
    const run = await submitRun(a.url, sid, 'do the thing');
    await waitFor(
      'the side effect to start',
      async () => existsSync(file) && readFileSync(file, 'utf8').includes('start'),
    );
    await a.kill();
    const parked = await waitFor(
      'the survivor to park the run on the unknown outcome',
      async () => {
        const r = await getRun(b.url, run.run_id);
        return r.status === 'waiting_for_approval' ? r : undefined;
      },
      20_000,
    );
    assert.ok(
      parked.pending_approvals.every((x: { reason: string }) => x.reason === 'outcome_unknown_after_restart'),
      JSON.stringify(parked.pending_approvals),
    );
    const answer = await api(b.url, 'POST', `/v1/runs/${run.run_id}/approvals`, {
      resolutions: parked.pending_approval_ids.map((id: string) => ({
        request_id: id,
        behavior: 'deny',
        result: 'it ran before the crash',
      })),
    });
    assert.ok([200, 202].includes(answer.status), answer.text);
    const [final] = await waitTerminal(b.url, [run.run_id], 20_000);
    assert.equal(final.status, 'completed', JSON.stringify(final));
    await sleep(2500); // the orphaned shell of the dead replica finishes its own single run
    const starts = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l === 'start').length;
    assert.equal(starts, 1, 'the side effect started exactly once');
  } finally {
    await pair.stop();
  }
});

test('replicas: SIGKILL while the run waits for approval; approved on the survivor, the tool runs once there', async () => {
  const script = {
    default: {
      turns: [
        { tool_calls: [{ name: 'edit_file', arguments: { path: 'c.txt', old_text: 'n', new_text: 'nn' } }] },
        { text: 'edited' },
      ],
    },
  };
  const pair = await startPair(script);
  try {
    const { a, b, workspace } = pair;
    writeFileSync(join(workspace, 'c.txt'), 'n');
    const sid = await createSession(a.url);
    const run = await submitRun(a.url, sid, 'edit it');
    const parked = await waitFor('the run to wait for approval', async () => {
      const r = await getRun(a.url, run.run_id);
      return r.status === 'waiting_for_approval' ? r : undefined;
    });
    await a.kill();
    const res = await api(b.url, 'POST', `/v1/runs/${run.run_id}/approvals`, {
      resolutions: parked.pending_approval_ids.map((id: string) => ({ request_id: id, behavior: 'allow' })),
    });
    assert.ok([200, 202].includes(res.status), res.text);
    const [final] = await waitTerminal(b.url, [run.run_id], 20_000);
    assertCleanRun(final, await runEvents(b.url, run.run_id), ['edited'], 'approved on the survivor:');
    assert.equal(readFileSync(join(workspace, 'c.txt'), 'utf8'), 'nn', 'the edit applied exactly once');
  } finally {
    await pair.stop();
  }
});

test('replicas: a frozen replica (SIGSTOP) whose lease moved writes nothing after SIGCONT', async () => {
  const pair = await startPair({ default: { turns: [{ delay_ms: 1200, text: 'slow answer' }] } });
  try {
    const { a, b } = pair;
    const { path, held, run } = await slowRunOnA(pair);
    a.proc.kill('SIGSTOP');
    await takenOver(held, run.run_id);
    // Thaw A while B is in its own model call: A's call answers first and tries to write.
    a.proc.kill('SIGCONT');
    const [final] = await waitTerminal(b.url, [run.run_id], 20_000);
    assertCleanRun(final, await runEvents(b.url, run.run_id), ['slow answer'], 'after the partition:');
    await sleep(1500); // anything A still had in flight has had its chance to write
    const turns = await queryState(
      { databaseUrl: a.databaseUrl, stateRoot: a.stateRoot },
      "SELECT seq FROM journal WHERE run_id = ? AND kind = 'assistant_message'",
      [run.run_id],
    );
    assert.equal(turns.length, 1, `one assistant turn in the journal, got ${turns.length}`);
    const status = (await api(a.url, 'GET', '/v1/status')).body;
    const selfView = status.replicas.replicas.find((r: { self: boolean }) => r.self);
    assert.deepEqual(selfView.live_runs, [], 'the thawed replica holds no run');
    await closeAfterCompletion(b.url, path, held, 'partition');
  } finally {
    await pair.stop();
  }
});
