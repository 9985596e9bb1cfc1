// Two replicas on one PostgreSQL database and a promoted skill (api-collab §4.6): each replica has
// its own state root, so its own daemon-owned skill files. A rollout driven through replica A makes
// the skill active in B's catalog too (B follows the record through the event log and writes its
// own file); a revoke through B takes it out of A's. Always on PostgreSQL (its own schema),
// whatever KHEISH_TEST_STORE says.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { http, tempDir, waitForRun } from '../helpers/daemon.ts';
import { publishLearning } from '../helpers/learnings-publish.ts';
import { type ReplicaPair, startReplicaPair } from '../helpers/replica-pair.ts';

const INSTR = 'PROC-TASK-MARKER: the shared procedure';
const SCRIPT = { rules: [{ match: 'PROC-TASK-MARKER', turns: [{ text: 'PROC-OK' }] }] };
let pair: ReplicaPair | undefined;
after(async () => pair?.stop());

async function completedRun(url: string, session: string, content: string): Promise<string> {
  await http(url, 'POST', '/v1/sessions', { session_id: session });
  const r = await http(url, 'POST', `/v1/sessions/${session}/runs`, { content });
  const run = await waitForRun(url, r.body.run_id, undefined, 30_000);
  assert.equal(run.status, 'completed');
  return run.run_id as string;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('a rollout through replica A activates the skill in replica B; a revoke through B removes it from A', async () => {
  pair = await startReplicaPair({
    script: SCRIPT,
    args: ['--workspace-root', tempDir('kheish-lskills-rep-ws-')],
  });
  const { a, b } = pair;
  const L1 = await publishLearning(a.url, INSTR);
  const post = (url: string, path: string, body: unknown) => http(url, 'POST', path, body);
  const promote = (body: object) =>
    post(a.url, `/v1/learnings/${L1}/promote-skill`, { skill_name: 'shared:proc', ...body });
  assert.equal((await promote({ instructions: INSTR })).status, 200);
  const verify = await completedRun(a.url, 'v', INSTR);
  let r = await post(a.url, '/v1/learning-skills/shared:proc/rollout-result', {
    kind: 'verification',
    run_id: verify,
    expected_output_contains: 'PROC-OK',
  });
  assert.equal(r.status, 200, r.text);
  assert.equal((await promote({ status: 'canary' })).status, 200);
  const canary = await completedRun(a.url, 'c', INSTR);
  r = await post(a.url, '/v1/learning-skills/shared:proc/rollout-result', {
    kind: 'canary',
    run_id: canary,
    expected_output_contains: 'PROC-OK',
  });
  assert.equal(r.status, 200, r.text);
  r = await promote({ status: 'active' });
  assert.equal(r.status, 200, r.text);

  const names = async (url: string) =>
    ((await http(url, 'GET', '/v1/skills')).body as any[]).map((s) => s.name);
  await until('B to mount the skill', async () =>
    (await names(b.url)).includes('shared:proc') ? true : undefined,
  );
  const fileB = join(b.stateRoot, 'skills', 'shared:proc', 'SKILL.md');
  assert.ok(readFileSync(fileB, 'utf8').includes(INSTR), 'B wrote its own copy of the file');

  r = await post(b.url, '/v1/learning-skills/shared:proc/revoke', { reason: 'paused' });
  assert.equal(r.status, 200, r.text);
  assert.ok(!(await names(b.url)).includes('shared:proc'));
  await until('A to unmount the skill', async () =>
    !(await names(a.url)).includes('shared:proc') ? true : undefined,
  );
  await until('A to remove its file', async () =>
    !existsSync(join(a.stateRoot, 'skills', 'shared:proc')) ? true : undefined,
  );
});
