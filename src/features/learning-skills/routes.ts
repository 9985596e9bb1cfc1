// HTTP binding of promoted procedural skills (api-collab §4.2, §4.6): parse, call the service, render.
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HttpApp } from '../../http/context.ts';
import {
  LearningSkillParams,
  LearningSkillsQuery,
  LearningSkillView,
  PromoteParams,
  PromoteSkillRequest,
  ReasonRequest,
  RolloutResultRequest,
} from './schema.ts';
import type { LearningSkillsService } from './service.ts';

export function registerLearningSkillRoutes(app: HttpApp, svc: LearningSkillsService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['learning-skills'];
  const one = { 200: LearningSkillView };

  r.post(
    '/v1/learnings/:learning_id/promote-skill',
    { schema: { tags, params: PromoteParams, body: PromoteSkillRequest, response: one } },
    async (req) => svc.promote(req.params.learning_id, req.body),
  );
  r.get(
    '/v1/learning-skills',
    { schema: { tags, querystring: LearningSkillsQuery, response: { 200: z.array(LearningSkillView) } } },
    async (req) => svc.list(req.query),
  );
  r.get(
    '/v1/learning-skills/:skill_name',
    { schema: { tags, params: LearningSkillParams, response: one } },
    async (req) => svc.get(req.params.skill_name),
  );
  r.post(
    '/v1/learning-skills/:skill_name/rollout-result',
    { schema: { tags, params: LearningSkillParams, body: RolloutResultRequest, response: one } },
    async (req) => svc.rolloutResult(req.params.skill_name, req.body),
  );
  r.post(
    '/v1/learning-skills/:skill_name/revoke',
    { schema: { tags, params: LearningSkillParams, body: ReasonRequest.optional(), response: one } },
    async (req) => svc.revoke(req.params.skill_name, req.body?.reason),
  );
  r.post(
    '/v1/learning-skills/:skill_name/rollback',
    { schema: { tags, params: LearningSkillParams, body: ReasonRequest.optional(), response: one } },
    async (req) => svc.rollback(req.params.skill_name, req.body?.reason),
  );
}
