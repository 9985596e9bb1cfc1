// HTTP binding of the schedules API (api-core §6.1). Shape errors of a create body become
// schedules-domain problems (the service validates the body it is given).
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { HttpApp } from '../../http/context.ts';
import { fetchLimit, parsePage, renderPage } from '../../http/pagination.ts';
import {
  ListSchedulesQuery,
  ScheduleCreateRequest,
  ScheduleEnvelope,
  ScheduleParams,
  ScheduleView,
} from './schema.ts';
import type { SchedulesService } from './service.ts';

export function registerScheduleRoutes(app: HttpApp, schedules: SchedulesService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['schedules'];

  r.post(
    '/v1/schedules',
    {
      schema: { tags, body: ScheduleCreateRequest, response: { 201: ScheduleView } },
      // The service re-validates and answers with schedules/<code> instead of a generic 400.
      attachValidation: true,
    },
    async (req, reply) => reply.code(201).send(await schedules.create(req.body)),
  );

  r.get('/v1/schedules', { schema: { tags, querystring: ListSchedulesQuery } }, async (req) => {
    const page = parsePage(req.query);
    const { items, total } = await schedules.list({
      session_id: req.query.session_id,
      after: page.after,
      limit: fetchLimit(page),
    });
    return renderPage(page, items, {
      total,
      keyOf: (s) => s.schedule_id as string | undefined,
      order: 'schedule_id_asc',
    });
  });

  r.get(
    '/v1/schedules/:schedule_id',
    { schema: { tags, params: ScheduleParams, response: { 200: ScheduleView } } },
    async (req) => schedules.get(req.params.schedule_id),
  );

  for (const action of ['cancel', 'pause', 'resume', 'trigger'] as const) {
    r.post(
      `/v1/schedules/:schedule_id/${action}`,
      { schema: { tags, params: ScheduleParams, response: { 200: ScheduleEnvelope } } },
      async (req) => schedules[action](req.params.schedule_id),
    );
  }
}
