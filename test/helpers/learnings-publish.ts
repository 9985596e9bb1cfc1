// Publishes a learning through the learnings API (`POST /v1/learning-candidates`, then
// `.../publish`), for promoted-skill tests: a workspace procedure in the active tier by default.
import assert from 'node:assert/strict';
import { http } from './daemon.ts';

export interface LearningShape {
  kind: 'procedure' | 'fact';
  scope: 'workspace' | 'session';
  tier: 'active' | 'provisional';
}

export const PROCEDURE: LearningShape = { kind: 'procedure', scope: 'workspace', tier: 'active' };

export async function publishLearning(
  url: string,
  content: string,
  shape: LearningShape = PROCEDURE,
): Promise<string> {
  if (shape.scope === 'session') await http(url, 'POST', '/v1/sessions', { session_id: 'learning-owner' });
  const scope =
    shape.scope === 'workspace'
      ? { kind: 'workspace', id: 'default' }
      : { kind: 'session', id: 'learning-owner' };
  const cand = await http(url, 'POST', '/v1/learning-candidates', { scope, kind: shape.kind, content });
  assert.ok(cand.status === 200 || cand.status === 201, cand.text);
  const pub = await http(url, 'POST', `/v1/learning-candidates/${cand.body.candidate_id}/publish`, {
    publish_tier: shape.tier,
  });
  assert.ok(pub.status === 200 || pub.status === 201, pub.text);
  assert.equal(typeof pub.body.learning_id, 'string', pub.text);
  return pub.body.learning_id as string;
}
