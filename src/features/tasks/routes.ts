// HTTP binding of session tasks (api-core §6.1).

import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { HttpApp } from '../../http/context.ts';
import { clientGone } from '../../http/disconnect.ts';
import { fetchLimit, parsePage, renderPage } from '../../http/pagination.ts';
import {
  ListTasksQuery,
  SessionTaskParams,
  StopTaskRequest,
  TaskOutputQuery,
  TaskOutputView,
  TaskParams,
  TaskRecord,
} from './schema.ts';
import type { TasksService } from './service.ts';

export function registerTaskRoutes(app: HttpApp, tasks: TasksService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['tasks'];

  r.get(
    '/v1/sessions/:session_id/tasks',
    { schema: { tags, params: SessionTaskParams, querystring: ListTasksQuery } },
    async (req) => {
      const page = parsePage(req.query);
      const { items, total } = await tasks.list(req.params.session_id, {
        status: req.query.status,
        after: page.after,
        limit: fetchLimit(page),
      });
      return renderPage(page, items, { total, keyOf: (t) => t.id, order: 'task_id_asc' });
    },
  );

  r.get(
    '/v1/sessions/:session_id/tasks/:task_id',
    { schema: { tags, params: TaskParams, response: { 200: TaskRecord } } },
    async (req) => tasks.get(req.params.session_id, req.params.task_id),
  );

  r.get(
    '/v1/sessions/:session_id/tasks/:task_id/output',
    { schema: { tags, params: TaskParams, querystring: TaskOutputQuery, response: { 200: TaskOutputView } } },
    // A waiting reader that hangs up stops waiting (and holds nothing).
    async (req, reply) =>
      tasks.output(req.params.session_id, req.params.task_id, req.query, clientGone(reply)),
  );

  r.post(
    '/v1/sessions/:session_id/tasks/:task_id/stop',
    { schema: { tags, params: TaskParams, body: StopTaskRequest, response: { 200: TaskRecord } } },
    async (req) => tasks.stop(req.params.session_id, req.params.task_id, req.body?.reason),
  );
}
