// Checklist items api-collab #46 and #47 over a daemon URL and a way to obtain learnings of a
// given shape (the conformance test publishes them through the learnings API).
import assert from 'node:assert/strict';
import { http } from '../helpers/daemon.ts';
import type { LearningShape } from '../helpers/learnings-publish.ts';
import { assertProblem } from './support.ts';

export type LearningMaker = (shape: LearningShape, content: string) => Promise<string>;

const GOOD = { kind: 'procedure', scope: 'workspace', tier: 'active' } as const;

export async function assertChecklist46(url: string, make: LearningMaker): Promise<void> {
  const promote = (learningId: string, body: Record<string, unknown>) =>
    http(url, 'POST', `/v1/learnings/${learningId}/promote-skill`, body);
  const ok = await make(GOOD, 'CHECK-46: the reviewed procedure');
  const cases: Array<[string, string, Record<string, unknown>, number, string]> = [
    [
      'a non-procedure learning',
      await make({ ...GOOD, kind: 'fact' }, 'The release branch is main'),
      { skill_name: 'c46-fact' },
      409,
      'learning_not_promotable',
    ],
    [
      'a non-workspace learning',
      await make({ ...GOOD, scope: 'session' }, 'CHECK-46: session procedure'),
      { skill_name: 'c46-session' },
      409,
      'learning_not_promotable',
    ],
    [
      'a provisional learning',
      await make({ ...GOOD, tier: 'provisional' }, 'CHECK-46: provisional procedure'),
      { skill_name: 'c46-provisional' },
      409,
      'learning_not_promotable',
    ],
    [
      'context other than fork',
      ok,
      { skill_name: 'c46-inline', context: 'inline' },
      400,
      'invalid_learning_skill',
    ],
    ['skill_name with a space', ok, { skill_name: 'c46 space' }, 400, 'invalid_learning_skill'],
    ['skill_name with a slash', ok, { skill_name: 'c46/slash' }, 400, 'invalid_learning_skill'],
    [
      'an initial status active',
      ok,
      { skill_name: 'c46-active', status: 'active' },
      409,
      'learning_skill_rollout_conflict',
    ],
  ];
  for (const [what, learningId, body, status, code] of cases)
    assertProblem(await promote(learningId, body), status, 'learnings', code, what);
  // None of the refused promotions left a record behind.
  const all = (await http(url, 'GET', '/v1/learning-skills')).body as Array<{ skill_name: string }>;
  assert.deepEqual(
    all.filter((s) => s.skill_name.startsWith('c46')),
    [],
  );
  // The same learning with a valid body is promotable (the refusals above were about the case).
  const fine = await promote(ok, { skill_name: 'c46:fine' });
  assert.equal(fine.status, 200, fine.text);
  assert.equal(fine.body.status, 'draft');
}

export async function assertChecklist47(url: string, make: LearningMaker): Promise<void> {
  const learningId = await make(GOOD, 'CHECK-47: the reviewed procedure');
  const promoted = await http(url, 'POST', `/v1/learnings/${learningId}/promote-skill`, {
    skill_name: 'c47:draft',
  });
  assert.equal(promoted.status, 200, promoted.text);
  assert.equal(promoted.body.status, 'draft');
  await http(url, 'POST', '/v1/sessions', { session_id: 'c47' });
  const submitted = await http(url, 'POST', '/v1/sessions/c47/runs', { content: 'CHECK-47 evidence' });
  assert.equal(submitted.status, 202, submitted.text);
  const runId = submitted.body.run_id as string;
  for (let i = 0; i < 400; i++) {
    const run = (await http(url, 'GET', `/v1/runs/${runId}`)).body;
    if (run.status === 'completed') break;
    await new Promise((r) => setTimeout(r, 25));
  }
  const res = await http(url, 'POST', '/v1/learning-skills/c47:draft/rollout-result', {
    kind: 'canary',
    run_id: runId,
    expected_output_contains: 'CHECK-47',
  });
  assertProblem(res, 409, 'learnings', 'learning_skill_rollout_conflict', 'canary evidence on a draft');
  const after = (await http(url, 'GET', '/v1/learning-skills/c47:draft')).body;
  assert.equal(after.status, 'draft');
  assert.equal(after.canary_success_count, 0);
  assert.equal(after.canary_failure_count, 0);
  assert.deepEqual(after.evidence_refs, []);
}
