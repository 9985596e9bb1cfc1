// One transaction per agent step (docs/decisions.md #82), counted: /v1/status reports the write
// groups the store committed, so a quiet daemon's count over one run is exactly its commits. The
// learning policy's automatic review of a run's `run_summary` candidate is a commit of its own
// after the run (decision 443 and the learnings section): the step counts run with automation at
// `manual_only`, and the last test counts that one commit under the default `shadow` mode.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon, tempDir } from '../helpers/daemon.ts';

const READ_STEPS = 9;
const WRITE_STEPS = 3;
const SCRIPT = {
  rules: [
    {
      match: '^reads$',
      turns: [
        ...Array.from({ length: READ_STEPS }, () => ({
          tool_calls: [{ name: 'read_file', arguments: { path: 'r.txt' } }],
        })),
        { text: 'read' },
      ],
    },
    {
      match: '^writes$',
      turns: [
        ...Array.from({ length: WRITE_STEPS }, (_, k) => ({
          tool_calls: [{ name: 'write_file', arguments: { path: `w${k}.txt`, content: 'w' } }],
        })),
        { text: 'wrote' },
      ],
    },
  ],
};

let daemon: TestDaemon;
const workspace = tempDir('kheish-step-commits-ws-');

before(async () => {
  writeFileSync(join(workspace, 'r.txt'), 'r');
  daemon = await startDaemon({ script: SCRIPT, args: ['--workspace-root', workspace] });
  const mode = await http(daemon.url, 'POST', '/v1/runtime/permission-mode', { mode: 'acceptEdits' });
  assert.equal(mode.status, 200, JSON.stringify(mode.body));
  await setLearningMode('manual_only');
});

async function setLearningMode(mode: 'manual_only' | 'shadow') {
  const res = await http(daemon.url, 'POST', '/v1/runtime/learning-policy', { policy: { mode } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
}
after(async () => {
  await daemon.kill();
  daemon.cleanup();
});

const groups = async () =>
  (await http(daemon.url, 'GET', '/v1/status')).body.storage.write_groups.groups as number;

/** The count once nothing has committed for a while (work after the run, like a review, is done). */
async function settledGroups(): Promise<number> {
  let last = await groups();
  for (;;) {
    await new Promise((r) => setTimeout(r, 300));
    const now = await groups();
    if (now === last) return now;
    last = now;
  }
}

async function commitsOfRun(content: string, expectedOutput: string): Promise<number> {
  const session = (await http(daemon.url, 'POST', '/v1/sessions', {})).body.session_id as string;
  const before = await settledGroups();
  const res = await http(daemon.url, 'POST', `/v1/sessions/${session}/input`, { content });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  // Inline input answers with the session view once the run settled.
  assert.deepEqual(
    res.body.outputs.map((o: { content: string }) => o.content),
    [expectedOutput],
  );
  return (await settledGroups()) - before;
}

test('a step whose tools only read is one commit: submit+start, one per step, the final answer', async () => {
  assert.equal(await commitsOfRun('reads', 'read'), 1 + READ_STEPS + 1);
});

test('a side-effecting step is two commits: the turn with the call start before it runs, the result after', async () => {
  assert.equal(await commitsOfRun('writes', 'wrote'), 1 + 2 * WRITE_STEPS + 1);
});

test("under the default shadow learning policy a run costs one commit more, after it ended: its run_summary candidate's review", async () => {
  await setLearningMode('shadow');
  try {
    assert.equal(await commitsOfRun('reads', 'read'), 1 + READ_STEPS + 1 + 1);
  } finally {
    await setLearningMode('manual_only');
  }
});
