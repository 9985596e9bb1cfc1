// HTTP binding of submissions and the runs API.

import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { DaemonError } from '../../errors/daemon-error.ts';
import type { HttpApp } from '../../http/context.ts';
import { clientGone } from '../../http/disconnect.ts';
import { envelope, parsePage } from '../../http/pagination.ts';
import { serveStream } from '../../http/sse.ts';
import { sseHeaders, sseQuerystring, sseResponse } from '../../http/sse-schema.ts';
import type { EventLog } from '../../store/event-log.ts';
import { SessionView } from '../sessions/schema.ts';
import {
  ListRunsQuery,
  RunParams,
  RunView,
  SessionRunParams,
  SubmitInputRequest,
  SubmitRunRequest,
} from './schema.ts';
import type { RunsService } from './service.ts';

export function registerRunRoutes(app: HttpApp, runs: RunsService, events: EventLog): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['runs'];

  r.post(
    '/v1/sessions/:session_id/runs',
    { schema: { tags, params: SessionRunParams, body: SubmitRunRequest, response: { 202: RunView } } },
    async (req, reply) =>
      reply
        .code(202)
        .send(
          await runs.submitDetached(
            req.params.session_id,
            req.body,
            req.headers['idempotency-key'],
            req.headers.traceparent,
          ),
        ),
  );

  r.post(
    '/v1/sessions/:session_id/input',
    { schema: { tags, params: SessionRunParams, body: SubmitInputRequest, response: { 200: SessionView } } },
    async (req, reply) =>
      runs.submitInline(req.params.session_id, req.body, clientGone(reply), req.headers.traceparent),
  );

  r.get('/v1/runs', { schema: { tags, querystring: ListRunsQuery } }, async (req) => {
    const q = req.query;
    const page = parsePage(q);
    const order = q.order ?? 'asc';
    if (order !== 'asc' && order !== 'desc')
      throw new DaemonError(400, 'pagination', 'invalid_order', `order must be asc or desc (got "${order}")`);
    const limit = page.limit ?? 1_000_000;
    if (q.priority_active === 'true') {
      const result = await runs.listByPriority({ session_id: q.session_id, limit, after: page.after });
      if (!page.paginated) return result.items;
      return envelope(result.items, {
        limit,
        total: result.total,
        hasMore: result.hasMore,
        lastKey: result.lastKey,
        order: 'active_first,updated_at_ms_desc,run_id_desc',
      });
    }
    let after: number | undefined;
    if (page.after !== undefined) {
      after = Number(page.after);
      if (!Number.isInteger(after))
        throw new DaemonError(
          400,
          'pagination',
          'invalid_cursor',
          'cursor is not one this daemon issued; start again without it',
        );
    }
    const result = await runs.list({
      session_id: q.session_id,
      order,
      after,
      limit,
      lastN: !page.paginated && page.limit !== undefined,
    });
    if (!page.paginated) return result.items;
    return envelope(result.items, {
      limit,
      total: result.total,
      hasMore: result.hasMore,
      lastKey: result.lastKey === undefined ? undefined : String(result.lastKey),
      order: order === 'asc' ? 'submitted_at_ms_asc,run_id_asc' : 'submitted_at_ms_desc,run_id_desc',
    });
  });

  r.get(
    '/v1/runs/:run_id',
    { schema: { tags, params: RunParams, response: { 200: RunView } } },
    async (req) => runs.get(req.params.run_id),
  );
  r.get('/v1/runs/:run_id/external-actions', { schema: { tags, params: RunParams } }, async (req) =>
    runs.externalActions(req.params.run_id),
  );
  r.get('/v1/runs/:run_id/events', { schema: { tags, params: RunParams } }, async (req) =>
    runs.events(req.params.run_id),
  );
  r.post(
    '/v1/runs/:run_id/cancel',
    { schema: { tags, params: RunParams, response: { 200: RunView } } },
    async (req) => runs.cancel(req.params.run_id),
  );
  r.get(
    '/v1/runs/:run_id/stream',
    {
      schema: {
        tags,
        params: RunParams,
        querystring: sseQuerystring,
        headers: sseHeaders,
        response: sseResponse,
      },
    },
    async (req, reply) => {
      await runs.get(req.params.run_id);
      await serveStream(req, reply, events, { run_id: req.params.run_id });
    },
  );
}
