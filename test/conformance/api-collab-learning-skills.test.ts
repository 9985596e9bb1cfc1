// api-collab #46 and #47 (promoted procedural skills) against a real daemon process, with the
// source learnings created and published through the learnings API (`POST /v1/learning-candidates`,
// `.../publish`); and the link the other way: a source learning revoked or superseded through that
// API revokes its skill.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { publishLearning } from '../helpers/learnings-publish.ts';
import { assertChecklist46, assertChecklist47, type LearningMaker } from './learning-skills-support.ts';
import { SCRIPT } from './support.ts';

let d: TestDaemon;
before(async () => {
  d = await startDaemon({ script: SCRIPT });
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
});

const publish: LearningMaker = (shape, content) => publishLearning(d.url, content, shape);

test('api-collab #46: promote-skill is rejected for a non-procedure, non-workspace or provisional learning, a non-fork context, a bad skill_name and an initial active status', async () => {
  await assertChecklist46(d.url, publish);
});

test('api-collab #47: rollout-result kind canary on a draft skill is rejected', async () => {
  await assertChecklist47(d.url, publish);
});

test('api-collab §4.6: revoking or superseding the source learning through the learnings API revokes its promoted skill', async () => {
  const shape = { kind: 'procedure', scope: 'workspace', tier: 'active' } as const;
  for (const [end, body] of [
    ['revoke', { reason: 'procedure retired' }],
    ['supersede', { content: 'CHECK-END: the newer procedure' }],
  ] as const) {
    const learningId = await publish(shape, `CHECK-END: the ${end} procedure`);
    const name = `end:${end}`;
    const promoted = await http(d.url, 'POST', `/v1/learnings/${learningId}/promote-skill`, {
      skill_name: name,
    });
    assert.equal(promoted.status, 200, promoted.text);
    const ended = await http(d.url, 'POST', `/v1/learnings/${learningId}/${end}`, body);
    assert.ok(ended.status === 200 || ended.status === 201, ended.text);
    let rec: any;
    for (let i = 0; i < 200; i++) {
      rec = (await http(d.url, 'GET', `/v1/learning-skills/${name}`)).body;
      if (rec.status === 'revoked') break;
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.equal(rec.status, 'revoked', JSON.stringify(rec.lifecycle_events));
    assert.match(rec.revoked_reason, new RegExp(learningId));
    const rollback = await http(d.url, 'POST', `/v1/learning-skills/${name}/rollback`, {});
    assert.equal(rollback.status, 409, rollback.text);
  }
});
