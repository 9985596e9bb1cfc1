// Background shell tasks with two replicas on one PostgreSQL database (issue 11): the output of a
// task running on one replica is read through the other while it runs; a stop asked on the other
// replica reaches the owner, which kills the tree; a replica that starts while another runs a task
// leaves that task alone; and when the owner dies its task is settled by the survivor (failed,
// daemon_restarted, the reason in metadata.error) and its process tree killed. Always on
// PostgreSQL (a fresh schema), whatever KHEISH_TEST_STORE says.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { http, startDaemon, startReplica, type TestDaemon, tempDir } from '../helpers/daemon.ts';
import { type FreshSchema, freshSchema } from '../helpers/pg-schema.ts';
import { taskProcesses } from '../helpers/task-processes.ts';
import { unsandboxedPath } from '../helpers/unsandboxed-path.ts';

/** Short leases: a replica without a heartbeat for 3 TTLs (3 s) is dead. */
const LEASE_TTL_MS = 1000;
const workspace = tempDir('kheish-replica-tasks-ws-');
const bg = (command: string) => ({
  tool_calls: [{ name: 'bash', arguments: { command, run_in_background: true } }],
});
const script = {
  rules: [
    {
      match: '^gated$',
      turns: [
        bg('echo started; while [ ! -f gate ]; do sleep 0.05; done; echo released'),
        { text: 'launched gated' },
      ],
    },
    { match: '^long$', turns: [bg('sleep 300 & echo sleeping; sleep 300'), { text: 'launched long' }] },
  ],
};

let schema: FreshSchema;
let a: TestDaemon;
let b: TestDaemon;
const extra: TestDaemon[] = [];
const ids = new Map<TestDaemon, string>();
let n = 0;

const args = ['--lease-ttl-ms', String(LEASE_TTL_MS), '--workspace-root', workspace];
// Unsandboxed: a sandboxed tree dies with its daemon, and the owner-death test needs it to survive.
const bin = unsandboxedPath();
const env = { PATH: bin.dir };

async function replicaId(d: TestDaemon): Promise<string> {
  const status = await http(d.url, 'GET', '/v1/status');
  return status.body.replicas.replica_id;
}

before(async () => {
  schema = await freshSchema();
  a = await startDaemon({ script, args, env, databaseUrl: schema.url });
  b = await startReplica(a, { script, args, env });
  for (const d of [a, b]) ids.set(d, await replicaId(d));
  // Runtime settings are shared: every replica applies the change.
  const mode = await http(a.url, 'POST', '/v1/runtime/permission-mode', { mode: 'bypassPermissions' });
  assert.equal(mode.status, 200, mode.text);
});

after(async () => {
  bin.remove();
  writeFileSync(join(workspace, 'gate'), '');
  for (const d of [a, b, ...extra]) {
    if (d && d.proc.exitCode === null && d.proc.signalCode === null) await d.stop().catch(() => undefined);
    await d?.cleanup();
  }
  await schema?.drop();
});

/** Runs `content` inline on `on`; returns the session and its one task. */
async function launch(on: TestDaemon, content: string): Promise<{ sid: string; task: any }> {
  const sid = `replica-task-${++n}`;
  assert.equal((await http(on.url, 'POST', '/v1/sessions', { session_id: sid })).status, 201);
  const res = await http(on.url, 'POST', `/v1/sessions/${sid}/input`, { content });
  assert.equal(res.status, 200, res.text);
  const list = await http(on.url, 'GET', `/v1/sessions/${sid}/tasks`);
  assert.equal(list.body.length, 1, list.text);
  return { sid, task: list.body[0] };
}

/** The replica that runs the task, and another one. */
function roles(task: any): { owner: TestDaemon; other: TestDaemon } {
  const owner = [a, b].find((d) => ids.get(d) === task.metadata.owner_replica);
  assert.ok(owner, `the task names a replica of this test as its owner: ${task.metadata.owner_replica}`);
  return { owner, other: owner === a ? b : a };
}

const output = async (d: TestDaemon, sid: string, id: string, query = '') => {
  const r = await http(d.url, 'GET', `/v1/sessions/${sid}/tasks/${id}/output${query}`);
  assert.equal(r.status, 200, r.text);
  return r.body;
};

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('the output of a task running on one replica is read through the other, while it runs and after', async () => {
  const { sid, task } = await launch(a, 'gated');
  const { other } = roles(task);
  assert.equal(task.metadata.output_store, 'database');
  assert.equal(task.metadata.output_file_path, null);
  const early = await until('the first line to be readable on the other replica', async () => {
    const view = await output(other, sid, task.id);
    return view.output_excerpt === 'started\n' ? view : undefined;
  });
  assert.equal(early.retrieval_status, 'not_ready');
  assert.equal(early.task.status, 'in_progress');
  assert.equal(early.output_file_path, null);
  // A wait on the other replica ends when the owner settles the task.
  const waiting = output(other, sid, task.id, '?wait=true&timeout_ms=30000&full=true');
  writeFileSync(join(workspace, 'gate'), '');
  const done = await waiting;
  assert.equal(done.retrieval_status, 'success');
  assert.equal(done.task.status, 'completed');
  assert.equal(done.task.metadata.exit_code, 0);
  assert.equal(done.output_text, 'started\nreleased\n');
  assert.equal(done.output_total_bytes, 17);
  assert.equal(done.task.metadata.output_total_bytes, 17, 'the final counters are on the record');
});

test('a stop asked on the other replica reaches the owner, which kills the tree; the task ends cancelled', async () => {
  const { sid, task } = await launch(a, 'long');
  const { other } = roles(task);
  await until('the task to print', async () =>
    (await output(other, sid, task.id)).output_excerpt === 'sleeping\n' ? true : undefined,
  );
  const stop = await http(other.url, 'POST', `/v1/sessions/${sid}/tasks/${task.id}/stop`, {
    reason: 'enough',
  });
  assert.equal(stop.status, 200, stop.text);
  assert.equal(stop.body.metadata.stop_requested, true);
  assert.equal(stop.body.metadata.stop_requested_by_replica, ids.get(other));
  assert.ok(['in_progress', 'cancelled'].includes(stop.body.status), stop.body.status);
  const done = await output(other, sid, task.id, '?wait=true&timeout_ms=20000');
  assert.equal(done.task.status, 'cancelled');
  const m = done.task.metadata;
  assert.equal(m.terminal_reason, 'stopped');
  assert.equal(m.stop_reason, 'enough');
  assert.equal(m.process_tree_shutdown_signal_sent, true);
  assert.equal(m.process_tree_shutdown_confirmed, true);
  assert.deepEqual(taskProcesses(task.id), [], 'no process of the task is left');
  // Stopping again anywhere changes nothing.
  const again = await http(other.url, 'POST', `/v1/sessions/${sid}/tasks/${task.id}/stop`, {});
  assert.equal(again.body.status, 'cancelled');
});

test('a replica that starts while another runs a task leaves that task running (boot recovery is per owner)', async () => {
  const { sid, task } = await launch(a, 'long');
  const { owner } = roles(task);
  const c = await startReplica(a, { script, args, env });
  extra.push(c);
  // C's boot recovery has run (it answers only after it); give its periodic check a few rounds too.
  await new Promise((r) => setTimeout(r, 3 * LEASE_TTL_MS));
  const seen = await http(c.url, 'GET', `/v1/sessions/${sid}/tasks/${task.id}`);
  assert.equal(seen.body.status, 'in_progress', JSON.stringify(seen.body.metadata));
  assert.equal(seen.body.metadata.recovered_on_boot, undefined);
  assert.ok(taskProcesses(task.id).length > 0, 'its processes still run');
  await c.stop();
  const stop = await http(owner.url, 'POST', `/v1/sessions/${sid}/tasks/${task.id}/stop`, {});
  assert.equal(stop.status, 200, stop.text);
  await output(owner, sid, task.id, '?wait=true&timeout_ms=20000');
});

test('when the owner stops gracefully, the survivor settles its task as failed (daemon_restarted), keeping the shutdown evidence', async () => {
  const { sid, task } = await launch(a, 'long');
  const { owner, other } = roles(task);
  await until('the task to print', async () =>
    (await output(other, sid, task.id)).output_excerpt === 'sleeping\n' ? true : undefined,
  );
  const ownerId = ids.get(owner)!;
  assert.equal(await owner.stop(), 0);
  assert.deepEqual(taskProcesses(task.id), [], 'the shutdown stopped the tree');
  const done = await until('the survivor to settle the task', async () => {
    const r = await http(other.url, 'GET', `/v1/sessions/${sid}/tasks/${task.id}`);
    return r.body.status === 'in_progress' ? undefined : r.body;
  });
  assert.equal(done.status, 'failed');
  const m = done.metadata;
  assert.equal(m.terminal_reason, 'daemon_restarted');
  assert.equal(m.recovered_on_boot, false);
  assert.equal(m.settled_by_replica, ids.get(other));
  assert.match(m.error, new RegExp(`replica ${ownerId}, which ran this background task, is gone`));
  assert.equal(typeof m.stopped_at_shutdown_ms, 'number');
  assert.equal(m.process_tree_shutdown_signal_sent, true, "the shutdown's evidence is kept");
  assert.equal(m.process_tree_shutdown_confirmed, true);
  // The owner comes back: its boot leaves the settled task as it is.
  const back = await owner.restart();
  if (owner === a) a = back;
  else b = back;
  ids.set(back, await replicaId(back));
  assert.equal(ids.get(back), ownerId, 'the same replica id after the restart');
  const later = (await http(back.url, 'GET', `/v1/sessions/${sid}/tasks/${task.id}`)).body;
  assert.equal(later.metadata.settled_by_replica, ids.get(other));
  assert.equal(later.metadata.recovered_on_boot, false);
});

test('when the owner dies, the survivor settles its task as failed (daemon_restarted) and kills the tree', async () => {
  const { sid, task } = await launch(a, 'long');
  const { owner, other } = roles(task);
  await until('the task to print', async () =>
    (await output(other, sid, task.id)).output_excerpt === 'sleeping\n' ? true : undefined,
  );
  const ownerId = ids.get(owner)!;
  await owner.kill();
  assert.ok(taskProcesses(task.id).length > 0, 'a SIGKILLed daemon leaves its detached task tree behind');
  const done = await until('the survivor to settle the task', async () => {
    const r = await http(other.url, 'GET', `/v1/sessions/${sid}/tasks/${task.id}`);
    return r.body.status === 'in_progress' ? undefined : r.body;
  });
  assert.equal(done.status, 'failed');
  const m = done.metadata;
  assert.equal(m.terminal_reason, 'daemon_restarted');
  assert.equal(m.recovered_on_boot, false);
  assert.equal(m.owner_replica, ownerId);
  assert.equal(m.settled_by_replica, ids.get(other));
  assert.match(m.error, new RegExp(`replica ${ownerId}, which ran this background task, is gone`));
  assert.equal(m.process_tree_shutdown_matched_target, true, 'same host: the tree was provably the task');
  assert.equal(m.process_tree_shutdown_confirmed, true);
  assert.deepEqual(taskProcesses(task.id), [], 'no process of the task is left');
  const view = await output(other, sid, task.id);
  assert.equal(view.retrieval_status, 'success');
  assert.equal(view.output_excerpt, 'sleeping\n', 'its output stays readable');
});
