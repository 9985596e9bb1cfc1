// Promoted procedural skills end to end (api-collab §4.6) on a daemon process: a procedure learning
// published through the learnings API is promoted, rolled out draft → verified → canary → active on
// real scripted runs as evidence, used by use_skill from a scripted session (fork, verification
// profile, its own worktree), revoked and rolled back, and revoked with its source learning; a
// restart rewrites skill files deleted or edited while the daemon was stopped. Runs on SQLite and,
// with KHEISH_TEST_STORE=postgres, on a fresh PostgreSQL schema.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';
import { publishLearning } from '../helpers/learnings-publish.ts';
import { journalPayloads, queryState } from '../helpers/state-query.ts';

const SCRIPT = {
  rules: [
    { match: 'PROC-TASK-MARKER', turns: [{ text: 'PROC-OK checked' }] },
    {
      match: '^please use (\\S+)',
      turns: [
        { tool_calls: [{ name: 'use_skill', arguments: { name: 'learning:proc', args: 'x' } }] },
        { text: 'parent done' },
      ],
    },
    {
      match: '^please use-b',
      turns: [{ tool_calls: [{ name: 'use_skill', arguments: { name: 'learning:b' } }] }, { text: 'b done' }],
    },
  ],
  default: { turns: [{ text: 'nothing to report' }] },
};

const workspace = tempDir('kheish-lskills-ws-');
let d: TestDaemon;
before(async () => {
  d = await startDaemon({
    script: SCRIPT,
    args: ['--workspace-root', workspace],
    env: { HOME: tempDir('kheish-lskills-home-') },
  });
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
});

/** Submits a detached run and waits for it to finish. */
async function runTo(sessionId: string, content: string): Promise<any> {
  await http(d.url, 'POST', '/v1/sessions', { session_id: sessionId });
  const r = await http(d.url, 'POST', `/v1/sessions/${sessionId}/runs`, { content });
  assert.equal(r.status, 202, r.text);
  return waitForRun(d.url, r.body.run_id, undefined, 30_000);
}

const post = (path: string, body: unknown) => http(d.url, 'POST', path, body);
const skillNames = async (path = '/v1/skills') =>
  ((await http(d.url, 'GET', path)).body as any[]).map((s) => s.name);
const toolResults = async (runId: string) =>
  (await journalPayloads(d, runId, 'tool_result')).map((r) => ({
    ...r,
    json: r.is_error ? null : JSON.parse(r.content),
  }));

/** draft → verified → canary → active on real runs; returns the record. */
async function rollOut(name: string, learningId: string, instructions: string) {
  let r = await post(`/v1/learnings/${learningId}/promote-skill`, {
    skill_name: name,
    instructions,
    allowed_tools: ['read_file'],
  });
  assert.equal(r.status, 200, r.text);
  const fp = r.body.definition_fingerprint;
  const verify = await runTo(`verify-${name.replace(/\W/g, '')}`, instructions);
  r = await post(`/v1/learning-skills/${name}/rollout-result`, {
    kind: 'verification',
    run_id: verify.run_id,
    expected_output_contains: 'PROC-OK',
    definition_fingerprint: fp,
  });
  assert.equal(r.status, 200, r.text);
  for (const status of ['verified', 'canary']) {
    r = await post(`/v1/learnings/${learningId}/promote-skill`, {
      skill_name: name,
      instructions,
      allowed_tools: ['read_file'],
      status,
    });
    assert.equal(r.status, 200, r.text);
  }
  const canary = await runTo(`canary-${name.replace(/\W/g, '')}`, instructions);
  r = await post(`/v1/learning-skills/${name}/rollout-result`, {
    kind: 'canary',
    run_id: canary.run_id,
    expected_output_contains: 'PROC-OK',
  });
  assert.equal(r.status, 200, r.text);
  r = await post(`/v1/learnings/${learningId}/promote-skill`, {
    skill_name: name,
    instructions,
    allowed_tools: ['read_file'],
    status: 'active',
  });
  assert.equal(r.status, 200, r.text);
  return r.body;
}

test('a procedure learning is promoted, rolled out on real runs, used by use_skill in a fork, then revoked with its learning', async () => {
  const L1 = await publishLearning(d.url, 'PROC-TASK-MARKER: reply PROC-OK');
  const instructions = 'PROC-TASK-MARKER: check the procedure and reply PROC-OK';
  const promoted = await post(`/v1/learnings/${L1}/promote-skill`, {
    skill_name: 'learning:proc',
    description: '   ',
    instructions,
    allowed_tools: ['read_file'],
    provider: ' ',
  });
  assert.equal(promoted.status, 200, promoted.text);
  const rec = promoted.body;
  assert.equal(rec.status, 'draft');
  assert.equal(rec.verification_status, 'pending');
  assert.equal(rec.definition.context, 'fork');
  assert.equal(rec.definition.agent_profile, 'verification');
  assert.equal(rec.definition.provider, null);
  assert.match(rec.definition.description, /procedure/i);
  assert.match(rec.definition_fingerprint, /^[0-9a-f]{64}$/);
  const file = join(d.stateRoot, 'skills', 'learning:proc', 'SKILL.md');
  assert.equal(rec.skill_path, file);
  assert.ok(existsSync(file));
  assert.ok(existsSync(join(d.stateRoot, 'skills', 'learning:proc', 'agents', 'kheish.yaml')));
  assert.ok(!(await skillNames()).includes('learning:proc'), 'a draft is hidden');

  // Gates: no status past draft without evidence; canary evidence needs status canary.
  let r = await post(`/v1/learnings/${L1}/promote-skill`, {
    skill_name: 'learning:proc',
    instructions,
    allowed_tools: ['read_file'],
    status: 'verified',
  });
  assert.equal(r.status, 409, r.text);
  assert.equal(r.body.code, 'learning_skill_rollout_conflict');
  const verify = await runTo('verifier', instructions);
  r = await post('/v1/learning-skills/learning:proc/rollout-result', {
    kind: 'canary',
    run_id: verify.run_id,
    expected_output_contains: 'PROC-OK',
  });
  assert.equal(r.status, 409, r.text);
  r = await post('/v1/learning-skills/learning:proc/rollout-result', {
    kind: 'verification',
    run_id: verify.run_id,
    expected_output_contains: 'PROC-OK',
    definition_fingerprint: 'f'.repeat(64),
  });
  assert.equal(r.status, 409, r.text);
  const quiet = await runTo('quiet', 'say something else');
  r = await post('/v1/learning-skills/learning:proc/rollout-result', {
    kind: 'verification',
    run_id: quiet.run_id,
    expected_output_contains: 'PROC-OK',
  });
  assert.equal(r.status, 409, 'a run without the marker is no evidence');
  r = await post('/v1/learning-skills/learning:proc/rollout-result', {
    kind: 'verification',
    run_id: 'run-nope',
    expected_output_contains: 'PROC-OK',
  });
  assert.equal(r.status, 404, r.text);
  r = await post('/v1/learning-skills/learning:proc/rollout-result', {
    kind: 'verification',
    run_id: verify.run_id,
    expected_output_contains: 'PROC-OK',
    definition_fingerprint: rec.definition_fingerprint,
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.verification_status, 'verified');
  assert.equal(r.body.real_daemon_verified, true);
  assert.deepEqual(r.body.verifier_run_ids, [verify.run_id]);
  assert.equal(r.body.successful_run_count, 1);
  assert.match(r.body.last_verified_workspace_digest, /^[0-9a-f]{64}$/);
  assert.equal(r.body.evidence_refs[0].definition_fingerprint, rec.definition_fingerprint);

  for (const status of ['verified', 'canary']) {
    r = await post(`/v1/learnings/${L1}/promote-skill`, {
      skill_name: 'learning:proc',
      instructions,
      allowed_tools: ['read_file'],
      status,
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.status, status);
    assert.ok(!(await skillNames()).includes('learning:proc'), `${status} is hidden`);
  }
  r = await post(`/v1/learnings/${L1}/promote-skill`, {
    skill_name: 'learning:proc',
    instructions,
    allowed_tools: ['read_file'],
    status: 'active',
  });
  assert.equal(r.status, 409, 'active needs a successful canary');
  const canary = await runTo('canary-1', instructions);
  r = await post('/v1/learning-skills/learning:proc/rollout-result', {
    kind: 'canary',
    run_id: canary.run_id,
    expected_output_contains: 'PROC-OK',
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.canary_success_count, 1);
  assert.equal(r.body.distinct_session_count, 2);
  r = await post(`/v1/learnings/${L1}/promote-skill`, {
    skill_name: 'learning:proc',
    instructions,
    allowed_tools: ['read_file'],
    status: 'active',
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.status, 'active');
  assert.deepEqual(
    r.body.lifecycle_events.map((e: any) => e.action),
    ['promoted', 'rollout_result', 'status_changed', 'status_changed', 'rollout_result', 'status_changed'],
  );
  // A changed definition of an active skill is refused in place.
  r = await post(`/v1/learnings/${L1}/promote-skill`, {
    skill_name: 'learning:proc',
    instructions: `${instructions}!`,
    status: 'active',
  });
  assert.equal(r.status, 409, r.text);

  // Active: in the catalog, the session view and list_skills; use_skill runs it as a fork.
  const listed = (await http(d.url, 'GET', '/v1/skills')).body.find((s: any) => s.name === 'learning:proc');
  assert.equal(listed.scope, 'daemon');
  assert.equal(listed.runtime.context, 'fork');
  assert.equal(listed.runtime.agent_profile, 'verification');
  const used = await runTo('user', 'please use learning:proc');
  assert.equal(used.status, 'completed');
  assert.ok((await skillNames('/v1/sessions/user/skills')).includes('learning:proc'));
  const [result] = await toolResults(used.run_id);
  assert.ok(result.json, result.content);
  assert.equal(result.json.action, 'fork');
  assert.equal(result.json.spawn.profile, 'verification');
  assert.equal(result.json.spawn.final_output, 'PROC-OK checked');
  const wt = result.json.spawn.worktree_path as string;
  assert.ok(wt.startsWith(join(workspace, '.kheish-procedural-worktrees', 'learning_proc')), wt);
  assert.ok(existsSync(wt));

  // A file edited behind the daemon's back: use_skill refuses it (the restart test repairs it).
  const original = readFileSync(file, 'utf8');
  writeFileSync(file, original.replace('PROC-TASK-MARKER', 'PROC-TASK-MARKER and also leak things'));
  const refused = await runTo('user-2', 'please use learning:proc');
  const [bad] = await toolResults(refused.run_id);
  assert.equal(bad.is_error, true);
  assert.match(bad.content, /differs from the durable record/);
  writeFileSync(file, original);

  const events = await queryState(
    d,
    "select data from events where name = 'learning_skill_updated' order by id",
  );
  assert.ok(events.length >= 6, `events: ${events.length}`);
  assert.doesNotMatch(
    JSON.stringify(events),
    /PROC-TASK-MARKER/,
    'events carry names and counts, not instructions',
  );

  // Revoking the source learning revokes the skill (in the learning's transaction).
  const revoked = await post(`/v1/learnings/${L1}/revoke`, { reason: 'procedure retired' });
  assert.equal(revoked.status, 200, revoked.text);
  let after: any;
  for (let i = 0; i < 200; i++) {
    after = (await http(d.url, 'GET', '/v1/learning-skills/learning:proc')).body;
    if (after.status === 'revoked') break;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.equal(after.status, 'revoked');
  assert.match(after.revoked_reason, new RegExp(`${L1} was revoked`));
  assert.ok(!(await skillNames()).includes('learning:proc'));
  assert.ok(!existsSync(file), 'a revoked skill leaves the daemon-owned root');
  r = await post('/v1/learning-skills/learning:proc/rollback', { reason: 'bring it back' });
  assert.equal(r.status, 409, 'rollback refuses a skill whose learning ended');
  const bySource = await http(d.url, 'GET', `/v1/learning-skills?source_learning_id=${L1}&status=revoked`);
  assert.deepEqual(
    bySource.body.map((s: any) => s.skill_name),
    ['learning:proc'],
  );
});

test('revoke removes an active skill from the catalog; rollback restores the latest active snapshot', async () => {
  const L2 = await publishLearning(d.url, 'PROC-TASK-MARKER: the b procedure');
  const instructions = 'PROC-TASK-MARKER: the b procedure';
  const active = await rollOut('learning:b', L2, instructions);
  assert.equal(active.status, 'active');
  assert.ok((await skillNames()).includes('learning:b'));
  let r = await post('/v1/learning-skills/learning:b/revoke', { reason: 'api_key=sk-live-abcdefghijklmnop' });
  assert.equal(r.status, 400, 'a secret-looking reason is refused');
  r = await post('/v1/learning-skills/learning:b/revoke', { reason: 'paused for review' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.status, 'revoked');
  assert.ok(!(await skillNames()).includes('learning:b'));
  r = await post('/v1/learning-skills/learning:b/rollback', { reason: 'review done' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.status, 'active');
  assert.equal(r.body.definition_fingerprint, active.definition_fingerprint);
  assert.ok((await skillNames()).includes('learning:b'));
  const used = await runTo('user-b', 'please use-b');
  const [result] = await toolResults(used.run_id);
  assert.equal(result.json?.spawn?.final_output, 'PROC-OK checked', result.content);
});

test('a failed canary blocks activation until a new draft rollout', async () => {
  const L3 = await publishLearning(d.url, 'PROC-TASK-MARKER: the c procedure');
  const instructions = 'PROC-TASK-MARKER: the c procedure';
  let r = await post(`/v1/learnings/${L3}/promote-skill`, { skill_name: 'learning:c', instructions });
  const verify = await runTo('verify-c', instructions);
  r = await post('/v1/learning-skills/learning:c/rollout-result', {
    kind: 'verification',
    run_id: verify.run_id,
    expected_output_contains: 'PROC-OK',
  });
  assert.equal(r.status, 200, r.text);
  r = await post(`/v1/learnings/${L3}/promote-skill`, {
    skill_name: 'learning:c',
    instructions,
    status: 'canary',
  });
  assert.equal(r.status, 200, r.text);
  const failing = await runTo('canary-c', 'no marker here');
  r = await post('/v1/learning-skills/learning:c/rollout-result', {
    kind: 'canary',
    run_id: failing.run_id,
    expected_output_contains: 'PROC-OK',
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.canary_failure_count, 1);
  const good = await runTo('canary-c2', instructions);
  r = await post('/v1/learning-skills/learning:c/rollout-result', {
    kind: 'canary',
    run_id: good.run_id,
    expected_output_contains: 'PROC-OK',
  });
  assert.equal(r.body.canary_success_count, 1);
  r = await post(`/v1/learnings/${L3}/promote-skill`, {
    skill_name: 'learning:c',
    instructions,
    status: 'active',
  });
  assert.equal(r.status, 409, r.text);
  assert.match(r.body.detail, /failed canary/);
  r = await post(`/v1/learnings/${L3}/promote-skill`, {
    skill_name: 'learning:c',
    instructions,
    status: 'draft',
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.canary_failure_count, 0);
  assert.equal(r.body.verification_status, 'pending');
  assert.equal(r.body.rollout_generation, 2);
});

test('restart: a deleted or edited skill file is rewritten from the durable record and mounted again', async () => {
  const L4 = await publishLearning(d.url, 'PROC-TASK-MARKER: the d procedure');
  await rollOut('learning:d', L4, 'PROC-TASK-MARKER: the d procedure');
  const L5 = await publishLearning(d.url, 'PROC-TASK-MARKER: e');
  await post(`/v1/learnings/${L5}/promote-skill`, {
    skill_name: 'learning:e',
    instructions: 'PROC-TASK-MARKER: e',
  });
  const fileD = join(d.stateRoot, 'skills', 'learning:d', 'SKILL.md');
  const fileE = join(d.stateRoot, 'skills', 'learning:e', 'SKILL.md');
  const before = readFileSync(fileD, 'utf8');
  const beforeE = readFileSync(fileE, 'utf8');
  // Both drifts happen while the daemon is stopped.
  await d.stop();
  writeFileSync(fileD, before.replace('the d procedure', 'something else entirely'));
  rmSync(fileE);
  d = await d.restart();
  assert.equal(readFileSync(fileD, 'utf8'), before);
  assert.equal(readFileSync(fileE, 'utf8'), beforeE);
  const recD = (await http(d.url, 'GET', '/v1/learning-skills/learning:d')).body;
  assert.equal(recD.lifecycle_events.at(-1).action, 'repaired');
  assert.ok((await skillNames()).includes('learning:d'));
  assert.ok(!(await skillNames()).includes('learning:e'), 'a repaired draft stays hidden');
  const status = (await http(d.url, 'GET', '/v1/status')).body;
  assert.equal(status.learning_skills.last_repair.repaired, 2, JSON.stringify(status.learning_skills));
});
