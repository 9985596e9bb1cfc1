// HTTP binding of output routing: session reply-target defaults (api-core §3.4) and the delivery
// queue (api-core §3.14, api-collab §8). Parse, call the service, render.
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { HttpApp } from '../../http/context.ts';
import { fetchLimit, parsePage, renderPage } from '../../http/pagination.ts';
import type { DeliveryStatus } from '../../store/repos/deliveries.ts';
import {
  DeadLetterQuery,
  DeliveryParams,
  DeliveryView,
  ListDeliveriesQuery,
  ReplayBulkBody,
  ReplayQuery,
  ResetBackpressureBody,
  ResolveBody,
  SessionParams,
  SessionReplyTargetsView,
  SessionViewLoose,
  SetReplyTargetsBody,
} from './schema.ts';
import type { DeliveriesService } from './service.ts';

const ORDER = 'delivery_time_asc,delivery_id_asc';

export function registerDeliveryRoutes(app: HttpApp, deliveries: DeliveriesService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const sessions = ['sessions'];
  const tags = ['deliveries'];

  r.get(
    '/v1/sessions/:session_id/reply-targets',
    { schema: { tags: sessions, params: SessionParams, response: { 200: SessionReplyTargetsView } } },
    async (req) => deliveries.sessionTargets(req.params.session_id),
  );
  for (const method of ['post', 'put'] as const) {
    r[method](
      '/v1/sessions/:session_id/reply-targets',
      {
        schema: {
          tags: sessions,
          params: SessionParams,
          body: SetReplyTargetsBody,
          response: { 200: SessionViewLoose },
        },
      },
      async (req) => {
        const list = Array.isArray(req.body) ? req.body : req.body.reply_targets;
        return deliveries.setSessionTargets(req.params.session_id, list);
      },
    );
  }
  r.delete(
    '/v1/sessions/:session_id/reply-targets',
    { schema: { tags: sessions, params: SessionParams, response: { 200: SessionViewLoose } } },
    async (req) => deliveries.setSessionTargets(req.params.session_id, null),
  );

  const list = async (q: ListDeliveriesQuery, status: DeliveryStatus | undefined) => {
    const page = parsePage(q);
    const { items, total, keys } = await deliveries.list({
      session_id: q.session_id,
      run_id: q.run_id,
      plugin: q.plugin,
      status,
      after_id: page.after === undefined ? undefined : Number(page.after),
      limit: fetchLimit(page),
    });
    const keyOf = new Map(items.map((v, i) => [v, String(keys[i])]));
    return renderPage(page, items, { total, keyOf: (v) => keyOf.get(v), order: ORDER });
  };

  r.get('/v1/deliveries', { schema: { tags, querystring: ListDeliveriesQuery } }, async (req) =>
    list(req.query, req.query.status?.replace('-', '_') as DeliveryStatus | undefined),
  );
  r.get('/v1/deliveries/dead-letter', { schema: { tags, querystring: DeadLetterQuery } }, async (req) =>
    list(req.query, 'dead_lettered'),
  );
  r.post('/v1/deliveries/replay-bulk', { schema: { tags, body: ReplayBulkBody } }, async (req) =>
    deliveries.replayBulk(req.body),
  );
  r.post(
    '/v1/deliveries/backpressure/reset',
    { schema: { tags, body: ResetBackpressureBody } },
    async (req) => deliveries.resetBackpressure(req.body),
  );
  r.get(
    '/v1/deliveries/:delivery_id',
    { schema: { tags, params: DeliveryParams, response: { 200: DeliveryView } } },
    async (req) => deliveries.get(req.params.delivery_id),
  );
  r.post(
    '/v1/deliveries/:delivery_id/replay',
    { schema: { tags, params: DeliveryParams, querystring: ReplayQuery, response: { 200: DeliveryView } } },
    async (req) => {
      const force = req.query.force === 'true' || req.query.force === '1';
      return deliveries.replay(req.params.delivery_id, force);
    },
  );
  r.post(
    '/v1/deliveries/:delivery_id/resolve',
    { schema: { tags, params: DeliveryParams, body: ResolveBody, response: { 200: DeliveryView } } },
    async (req) => deliveries.resolve(req.params.delivery_id, req.body.reason),
  );
  r.get('/v1/runtime/deliveries/metrics', { schema: { tags } }, async () => deliveries.metrics());
}
