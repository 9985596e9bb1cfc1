// HTTP binding of the learnings API (api-collab §4.2) and of the automation policy
// (`/v1/runtime/learning-policy`, §4.5): parse, call the service, render.
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HttpApp } from '../../http/context.ts';
import { type PageQuery, pageByPosition } from '../../http/pagination.ts';
import type { LearningsFeature } from './index.ts';
import { parsePolicyBody } from './policy.ts';
import {
  CandidateParams,
  CreateCandidateRequest,
  LearningParams,
  ListCandidatesQuery,
  ListLearningsQuery,
  PublishCandidateRequest,
  ReasonRequest,
  RevokeMatchingRequest,
  SupersedeRequest,
} from './schema.ts';

const paged = <T>(query: PageQuery, all: T[], keyOf: (t: T) => string) =>
  pageByPosition(query, all, keyOf, 'created_desc');

export function registerLearningRoutes(app: HttpApp, f: LearningsFeature): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['learnings'];
  const { candidates, learnings } = f;

  r.get('/v1/learning-candidates', { schema: { tags, querystring: ListCandidatesQuery } }, async (req) =>
    paged(req.query, await candidates.list(req.query), (c) => c.candidate_id),
  );
  r.post('/v1/learning-candidates', { schema: { tags, body: CreateCandidateRequest } }, async (req, reply) =>
    reply.code(201).send(await candidates.create(req.body)),
  );
  r.get('/v1/learning-candidates/:candidate_id', { schema: { tags, params: CandidateParams } }, async (req) =>
    candidates.get(req.params.candidate_id),
  );
  r.post(
    '/v1/learning-candidates/:candidate_id/publish',
    { schema: { tags, params: CandidateParams, body: PublishCandidateRequest } },
    async (req) => candidates.publish(req.params.candidate_id, req.body),
  );
  r.post(
    '/v1/learning-candidates/:candidate_id/reject',
    { schema: { tags, params: CandidateParams, body: ReasonRequest } },
    async (req) => candidates.reject(req.params.candidate_id, req.body?.reason),
  );

  r.get('/v1/learnings', { schema: { tags, querystring: ListLearningsQuery } }, async (req) =>
    paged(req.query, await learnings.list(req.query), (l) => l.learning_id),
  );
  r.post('/v1/learnings/revoke-matching', { schema: { tags, body: RevokeMatchingRequest } }, async (req) =>
    learnings.revokeMatching(req.body),
  );
  r.get('/v1/learnings/:learning_id', { schema: { tags, params: LearningParams } }, async (req) =>
    learnings.get(req.params.learning_id),
  );
  r.post(
    '/v1/learnings/:learning_id/revoke',
    { schema: { tags, params: LearningParams, body: ReasonRequest } },
    async (req) => learnings.revoke(req.params.learning_id, req.body?.reason),
  );
  r.post(
    '/v1/learnings/:learning_id/supersede',
    { schema: { tags, params: LearningParams, body: SupersedeRequest } },
    async (req) => learnings.supersede(req.params.learning_id, req.body),
  );

  const runtimeTags = ['runtime'];
  r.get('/v1/runtime/learning-policy', { schema: { tags: runtimeTags } }, async () => candidates.policy());
  // Checked by the policy parser, so every bad shape answers runtime/invalid_learning_policy.
  r.post('/v1/runtime/learning-policy', { schema: { tags: runtimeTags, body: z.unknown() } }, async (req) => {
    const { policy, expected_revision } = parsePolicyBody(req.body);
    return f.runtime.settings.mutate('learning_policy', policy, { expected_revision }, () =>
      f.runtime.runtime(),
    );
  });
}
