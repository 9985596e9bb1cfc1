// HTTP binding of the skills API (api-core §12.2): inspection only; activation is a tool's job.
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HttpApp } from '../../http/context.ts';
import { SessionSkillParams, SkillParams, SkillSummaryView, SkillsQuery, SkillView } from './schema.ts';
import type { SkillsService } from './service.ts';

export function registerSkillRoutes(app: HttpApp, skills: SkillsService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['skills'];

  r.get(
    '/v1/skills',
    { schema: { tags, querystring: SkillsQuery, response: { 200: z.array(SkillSummaryView) } } },
    async (req) => skills.list(req.query.query),
  );

  r.get(
    '/v1/skills/:skill_name',
    { schema: { tags, params: SkillParams, response: { 200: SkillView } } },
    async (req) => skills.get(req.params.skill_name),
  );

  r.get(
    '/v1/sessions/:session_id/skills',
    {
      schema: {
        tags: ['sessions', ...tags],
        params: SessionSkillParams,
        querystring: SkillsQuery,
        response: { 200: z.array(SkillSummaryView) },
      },
    },
    async (req) => skills.sessionSkills(req.params.session_id, req.query.query),
  );
}
