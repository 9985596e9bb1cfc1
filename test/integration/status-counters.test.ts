// GET /v1/status answers from counters kept by triggers (migration 0011). Through real daemons:
// after a mix of operations (completed, failed and cancelled runs, approvals allowed, denied and
// pending, questions declined and pending, tasks, an ended session, a child agent) and after a
// SIGKILL in the middle of a burst of runs, the counters equal a fresh COUNT/SUM of the rows in
// any snapshot of the database, and the status shows what the former queries computed.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  actualCounters,
  expectedCounters,
  legacyStatusCounts,
  openStateDb,
} from '../helpers/counters-oracle.ts';
import { http, startDaemon, type TestDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';

const usage = { input_tokens: 1234, output_tokens: 567 };
const noop = { tool_calls: [{ name: 'noop', arguments: {} }], usage, delay_ms: 20 };
const question = {
  name: 'ask_user_question',
  arguments: { questions: [{ id: 'q', header: 'Q', question: 'Which?', options: [] }] },
};
const script = {
  rules: [
    { match: '^fail', turns: [{ error: { status: 400, message: 'scripted rejection' } }] },
    { match: '^hang', turns: [{ hang: true }] },
    {
      match: '^approve',
      turns: [
        { tool_calls: [{ name: 'bash', arguments: { command: 'echo hi' } }], usage },
        { text: 'done', usage },
      ],
    },
    { match: '^ask', turns: [{ tool_calls: [question] }, { text: 'thanks', usage }] },
    {
      match: '^tasks',
      turns: [
        {
          tool_calls: [
            { name: 'task_create', arguments: { title: 'one', description: 'first' } },
            { name: 'task_create', arguments: { title: 'two', description: 'second' } },
          ],
        },
        { text: 'made', usage },
      ],
    },
    {
      match: '^parent',
      turns: [
        {
          tool_calls: [{ name: 'spawn_agent', arguments: { name: 'kid', prompt: 'child work', wait: true } }],
        },
        { text: 'parent done', usage },
      ],
    },
    { match: '^steps', turns: [noop, noop, noop, { text: 'stepped', usage }] },
  ],
  default: { turns: [{ text: 'ok', usage }] },
};

const scratch: string[] = [];
after(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

/** A scripted route with prices, so runs carry costs that are not round numbers. */
function routesFile(): string {
  const dir = tempDir('kheish-counters-routes-');
  scratch.push(dir);
  writeFileSync(join(dir, 'script.json'), JSON.stringify(script));
  const path = join(dir, 'routes.toml');
  writeFileSync(
    path,
    `version = 1\ndefault_route = "local"\n\n[routes.local]\ndriver = "scripted"\ndefault_model = "scripted"\nscript_file = "script.json"\n\n[routes.local.pricing]\ninput_usd_per_mtok = 0.3\noutput_usd_per_mtok = 2.5\n`,
  );
  return path;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Counters equal a fresh count in one read snapshot: true at any moment, even mid-write. */
function assertCountersExact(stateRoot: string, when: string): void {
  const db = openStateDb(stateRoot);
  try {
    const [actual, expected] = db.transaction(() => [actualCounters(db), expectedCounters(db)])();
    assert.deepEqual(actual, expected, `counters ${when}`);
  } finally {
    db.close();
  }
}

/** The keys of `runs` in GET /v1/status that are not a count by status. */
const NOT_A_STATUS = new Set([
  'active_executors',
  'pending_approval_count',
  'pending_question_count',
  'oldest_queued_run_lag_ms',
  'usage',
  'queued_run_lag_threshold_ms',
  // Ages and idle times of live runs (status-figures.ts), not counts.
  'max_session_queue_depth',
  'oldest_queued_run_age_ms',
  'oldest_queued_run_id',
  'oldest_non_terminal_run_age_ms',
  'oldest_non_terminal_run_id',
  'oldest_non_terminal_run_idle_ms',
  'oldest_idle_non_terminal_run_id',
  'stale_non_terminal_run_count',
  'stale_non_terminal_run_ids',
  'stale_non_terminal_run_threshold_ms',
]);

const statusCounts = (body: any) => ({
  runs: Object.fromEntries(Object.entries(body.runs).filter(([k]) => !NOT_A_STATUS.has(k))),
  pending_approval_count: body.runs.pending_approval_count,
  pending_question_count: body.runs.pending_question_count,
  usage: body.runs.usage,
  sessions: body.sessions,
  tasks: body.tasks,
  agents: body.agents,
});

/** Once the daemon is idle, GET /v1/status shows exactly what the former COUNT/SUM queries did. */
async function assertStatusMatchesRows(d: TestDaemon, when: string): Promise<any> {
  for (let attempt = 0; ; attempt++) {
    const status = await http(d.url, 'GET', '/v1/status');
    assert.equal(status.status, 200, status.text);
    const db = openStateDb(d.stateRoot);
    const legacy = legacyStatusCounts(db);
    db.close();
    try {
      assert.deepEqual(statusCounts(status.body), legacy, `status ${when}`);
      return status.body;
    } catch (err) {
      if (attempt >= 50) throw err; // still moving: background work not yet idle
      await sleep(100);
    }
  }
}

async function submit(d: TestDaemon, session: string, content: string): Promise<string> {
  const r = await http(d.url, 'POST', `/v1/sessions/${session}/runs`, { content });
  assert.equal(r.status, 202, r.text);
  return r.body.run_id;
}

test('status counters equal a fresh count after completed, failed, cancelled, approval, question, task, agent and session operations', async () => {
  const d = await startDaemon({ args: ['--routes-file', routesFile()] });
  try {
    for (let i = 1; i <= 9; i++) await http(d.url, 'POST', '/v1/sessions', { session_id: `mix-${i}` });
    for (let i = 0; i < 3; i++) await waitForRun(d.url, await submit(d, 'mix-1', `hello ${i}`));
    assert.equal((await waitForRun(d.url, await submit(d, 'mix-1', 'fail now'))).status, 'failed');

    const hung = await submit(d, 'mix-2', 'hang here');
    const queued = await submit(d, 'mix-2', 'behind the hang');
    await waitForRun(d.url, hung, (r) => r.status === 'running');
    await http(d.url, 'POST', `/v1/runs/${queued}/cancel`);
    await http(d.url, 'POST', `/v1/runs/${hung}/cancel`);
    for (const id of [hung, queued]) assert.equal((await waitForRun(d.url, id)).status, 'cancelled');

    const parked = async (session: string, content: string, status: string) =>
      waitForRun(d.url, await submit(d, session, content), (r) => r.status === status);
    for (const [session, behavior] of [
      ['mix-3', 'allow'],
      ['mix-4', 'deny'],
    ]) {
      const run = await parked(session!, 'approve this', 'waiting_for_approval');
      const res = await http(d.url, 'POST', `/v1/runs/${run.run_id}/approvals`, {
        resolutions: run.pending_approval_ids.map((id: string) => ({ request_id: id, behavior })),
      });
      assert.ok(res.status < 300, res.text);
      await waitForRun(d.url, run.run_id);
    }
    await parked('mix-5', 'approve later', 'waiting_for_approval');
    const asked = await parked('mix-6', 'ask me', 'waiting_for_user_question');
    const declined = await http(d.url, 'POST', `/v1/runs/${asked.run_id}/questions`, {
      resolution: { request_id: asked.pending_question_ids[0], declined: true, answers: [] },
    });
    assert.ok(declined.status < 300, declined.text);
    await waitForRun(d.url, asked.run_id);
    await parked('mix-7', 'ask again', 'waiting_for_user_question');

    await waitForRun(d.url, await submit(d, 'mix-8', 'tasks please'));
    assert.equal((await waitForRun(d.url, await submit(d, 'mix-9', 'parent of one'))).status, 'completed');
    assert.equal((await http(d.url, 'POST', '/v1/sessions/mix-1/end', { reason: 'done' })).status, 200);

    const body = await assertStatusMatchesRows(d, 'after the mix');
    assertCountersExact(d.stateRoot, 'after the mix');
    // The mix did reach every counter it was meant to.
    assert.deepEqual(
      [
        body.runs.failed,
        body.runs.cancelled,
        body.runs.waiting_for_approval,
        body.runs.waiting_for_user_question,
      ],
      [1, 2, 1, 1],
    );
    assert.deepEqual([body.runs.pending_approval_count, body.runs.pending_question_count], [1, 1]);
    assert.ok(body.tasks.total >= 2 && body.sessions.ended === 1 && body.agents.sidechain_count === 1);
    assert.ok(body.runs.usage.cost_usd > 0 && body.runs.usage.model_calls > 10);
  } finally {
    await d.kill();
    d.cleanup();
  }
});

test('status counters stay exact across a SIGKILL in the middle of a burst of runs and the restart after it', async () => {
  const d = await startDaemon({ args: ['--routes-file', routesFile()] });
  let current = d;
  try {
    const runs: string[] = [];
    for (let i = 0; i < 12; i++) {
      await http(d.url, 'POST', '/v1/sessions', { session_id: `burst-${i}` });
      runs.push(await submit(d, `burst-${i}`, 'steps ahead'), await submit(d, `burst-${i}`, `then ${i}`));
    }
    // Two runs that are surely live when the kill lands (recovery requeues and restarts them).
    await http(d.url, 'POST', '/v1/sessions', { session_id: 'burst-hang' });
    const hung = [await submit(d, 'burst-hang', 'hang on'), await submit(d, 'burst-hang', 'hang behind')];
    // Kill while runs are executing: some done, some mid-way, some still queued.
    for (let done = 0; done < 4; ) {
      const list = (await http(d.url, 'GET', '/v1/runs?limit=100')).body as any[];
      done = list.filter((r) => r.status === 'completed').length;
      if (done < 4) await sleep(20);
    }
    await d.kill();
    assertCountersExact(d.stateRoot, 'in the file right after the SIGKILL');

    current = await d.restart();
    for (const id of runs) await waitForRun(current.url, id, undefined, 30_000);
    for (const id of hung) await http(current.url, 'POST', `/v1/runs/${id}/cancel`);
    for (const id of hung) assert.equal((await waitForRun(current.url, id)).status, 'cancelled');
    const body = await assertStatusMatchesRows(current, 'after the restart');
    assertCountersExact(current.stateRoot, 'after the restart');
    assert.deepEqual(
      [body.runs.completed, body.runs.cancelled],
      [runs.length, hung.length],
      'every run settled once',
    );
  } finally {
    await current.kill();
    current.cleanup();
  }
});
