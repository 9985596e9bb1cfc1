// Crash scenario: the daemon dies while a forked skill's child agent runs (the parent is inside
// use_skill, waiting). After the restart the parent's use_skill runs again, finds the child it
// already spawned (idempotent per run and tool call), waits for it and gets its result: exactly
// one child, no operator question (the call is not a blind side effect), the outcome consumed once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tempDir } from '../helpers/daemon.ts';
import { placeholder, writeSkill } from '../helpers/skill-tree.ts';
import { journalPayloads, queryState } from '../helpers/state-query.ts';
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
  runIterations,
  sessionRuns,
  sleep,
  submitRun,
  waitFor,
  waitTerminal,
} from './crash-kit.ts';

const CHILD_DELAY_MS = 700;
const root = tempDir('kheish-skill-crash-');
writeSkill(root, 'digest', {
  meta: { description: 'Digest a topic in a child agent' },
  body: `FORKED-DIGEST-TASK on ${placeholder('ARGUMENTS')}`,
  runtime: 'context: fork\n',
});
const SCRIPT = {
  rules: [
    { match: 'FORKED-DIGEST-TASK', turns: [{ delay_ms: CHILD_DELAY_MS, text: 'digest: done' }] },
    {
      match: '^run the digest',
      turns: [
        { tool_calls: [{ name: 'use_skill', arguments: { name: 'digest', args: 'crashes' } }] },
        { text: 'parent has the digest' },
      ],
    },
  ],
};

test(`crash: SIGKILL while a forked skill's child runs — one child, and the parent gets its result (${ITERATIONS} iterations)`, async (t) => {
  const aim = new KillAim();
  const opts = { script: SCRIPT, args: ['--skill-root', root], env: { HOME: tempDir('kheish-skill-home-') } };
  await runIterations(opts, async (rig) => {
    const sid = await createSession(rig.url);
    const parentAgent = (await api(rig.url, 'GET', `/v1/sessions/${sid}`)).body.agent_id as string;
    const parentRun = await submitRun(rig.url, sid, 'run the digest');
    const child = await waitFor('the child to run', async () => {
      const [id] = (await api(rig.url, 'GET', `/v1/agents/${parentAgent}`)).body.children ?? [];
      if (!id) return undefined;
      const snap = (await api(rig.url, 'GET', `/v1/agents/${id}`)).body;
      const launch = snap.agent.launch_run_id && (await getRun(rig.url, snap.agent.launch_run_id));
      return launch?.status === 'running' ? { id, launch } : undefined;
    });
    await sleep(Math.max(0, child.launch.started_at_ms + randomInt(50, CHILD_DELAY_MS - 200) - Date.now()));
    const before = await getRun(rig.url, child.launch.run_id);
    aim.record(before.status === 'running' && !before.outputs?.length, `child run was ${before.status}`);
    await rig.crashAndRestart();

    const [parent] = await waitTerminal(rig.url, [parentRun.run_id], 30_000);
    assert.equal(parent.status, 'completed', `parent ${JSON.stringify(parent.error)}`);
    assert.deepEqual(
      parent.outputs.map((o: any) => o.content),
      ['parent has the digest'],
    );
    const children = (await api(rig.url, 'GET', `/v1/agents/${parentAgent}`)).body.children;
    assert.equal(children.length, 1, 'spawned exactly once');
    assert.equal(children[0], child.id);
    const [childRun] = await waitTerminal(rig.url, [child.launch.run_id]);
    assertCleanRun(childRun, await runEvents(rig.url, childRun.run_id), ['digest: done'], 'child');

    const results = await journalPayloads(rig.daemon, parentRun.run_id, 'tool_result');
    assert.equal(results.length, 1, 'one result for the one use_skill call');
    const result = JSON.parse(results[0].content);
    assert.equal(result.action, 'fork');
    assert.equal(result.spawn.agent_id, child.id);
    assert.equal(result.spawn.launch_run_id, child.launch.run_id);
    assert.equal(result.spawn.final_output, 'digest: done');
    const outcomes = await queryState(
      rig.daemon,
      "select status from mailbox_messages where kind = 'child_outcome' and correlation_id = ?",
      [childRun.run_id],
    );
    assert.deepEqual(
      outcomes.map((o: any) => o.status),
      ['consumed'],
      'the wait took the outcome; the parent is not told twice',
    );
    assert.equal((await sessionRuns(rig.url, sid)).length, 1, 'no mailbox delivery run');
    await assertQuiescent(rig.url, 'after restart:');
  });
  t.diagnostic(aim.assertMostlyHit("the forked skill's child model call"));
});
