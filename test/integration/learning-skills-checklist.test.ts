// The assertions of api-collab #46 and #47 (test/conformance/learning-skills-support.ts) over the
// in-process daemon with the learnings stand-in, so they run before the learnings feature is
// merged. The conformance claim is test/conformance/api-collab-learning-skills.test.ts.
import { after, before, test } from 'node:test';
import {
  assertChecklist46,
  assertChecklist47,
  type LearningMaker,
} from '../conformance/learning-skills-support.ts';
import { type Rig, startRig } from '../helpers/learning-skills-rig.ts';

let rig: Rig;
let n = 0;
before(async () => {
  rig = await startRig({ default: { turns: [{ text: 'CHECK-47 done' }] } });
});
after(async () => rig?.close());

const make: LearningMaker = async (shape, content) =>
  rig.learnings.seed({
    learning_id: `lrn-${++n}`,
    kind: shape.kind,
    scope: shape.scope === 'workspace' ? { kind: 'workspace', id: 'default' } : { kind: 'session', id: 's' },
    status: shape.tier === 'active' ? 'active' : 'provisional',
    publish_tier: shape.tier,
    content,
  }).learning_id;

test('#46 cases over the learnings stand-in: every listed promotion is refused', async () => {
  await assertChecklist46(rig.url, make);
});

test('#47 over the learnings stand-in: canary evidence on a draft is refused', async () => {
  await assertChecklist47(rig.url, make);
});
