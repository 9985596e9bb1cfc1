// HTTP binding of the sessions API: parse, call the service, render.
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { AppContext, HttpApp } from '../../http/context.ts';
import { envelope, parsePage } from '../../http/pagination.ts';
import { serveStream } from '../../http/sse.ts';
import {
  BudgetBody,
  CapabilityScopeBody,
  CreateSessionRequest,
  CredentialScopeBody,
  EndSessionBody,
  ListSessionsQuery,
  OutputContractBody,
  RoutePolicyBody,
  SessionParams,
  SessionView,
} from './schema.ts';

export function registerSessionRoutes(app: HttpApp, ctx: AppContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { sessions } = ctx;
  const tags = ['sessions'];

  r.post(
    '/v1/sessions',
    { schema: { tags, body: CreateSessionRequest.nullish(), response: { 201: SessionView } } },
    async (req, reply) => reply.code(201).send(await sessions.create(req.body ?? {})),
  );

  r.get('/v1/sessions', { schema: { tags, querystring: ListSessionsQuery } }, async (req) => {
    const page = parsePage(req.query);
    const { items, total, lastKey } = await sessions.list({
      after: page.after,
      limit: page.limit === undefined ? undefined : page.paginated ? page.limit + 1 : page.limit,
    });
    if (!page.paginated) return items;
    const limit = page.limit!;
    const hasMore = items.length > limit;
    const shown = items.slice(0, limit);
    return envelope(shown, {
      limit,
      total,
      hasMore,
      lastKey: hasMore ? (shown.at(-1)?.session_id as string) : lastKey,
      order: 'session_id_asc',
    });
  });

  r.get(
    '/v1/sessions/:session_id',
    { schema: { tags, params: SessionParams, response: { 200: SessionView } } },
    async (req) => sessions.view(req.params.session_id),
  );

  r.get('/v1/sessions/:session_id/events', { schema: { tags, params: SessionParams } }, async (req) =>
    sessions.eventLog(req.params.session_id),
  );

  r.get(
    '/v1/sessions/:session_id/stream',
    { schema: { tags, params: SessionParams } },
    async (req, reply) => {
      await sessions.require(req.params.session_id);
      await serveStream(req, reply, ctx.engine.events, { session_id: req.params.session_id });
    },
  );

  r.post(
    '/v1/sessions/:session_id/end',
    { schema: { tags, params: SessionParams, body: EndSessionBody } },
    async (req) => sessions.end(req.params.session_id, req.body?.reason ?? null),
  );

  r.post('/v1/sessions/:session_id/interrupt', { schema: { tags, params: SessionParams } }, async (req) =>
    sessions.interrupt(req.params.session_id),
  );

  for (const method of ['POST', 'PUT'] as const) {
    r.route({
      method,
      url: '/v1/sessions/:session_id/route-policy',
      schema: { tags, params: SessionParams, body: RoutePolicyBody },
      handler: async (req: any) => sessions.setRoutePolicy(req.params.session_id, req.body.route_policy),
    });
    r.route({
      method,
      url: '/v1/sessions/:session_id/budget',
      schema: { tags, params: SessionParams, body: BudgetBody },
      handler: async (req: any) => sessions.setBudget(req.params.session_id, req.body.budget),
    });
    r.route({
      method,
      url: '/v1/sessions/:session_id/output-contract',
      schema: { tags, params: SessionParams, body: OutputContractBody },
      handler: async (req: any) =>
        sessions.setOutputContract(req.params.session_id, req.body.output_contract),
    });
    r.route({
      method,
      url: '/v1/sessions/:session_id/capability-scope',
      schema: { tags, params: SessionParams, body: CapabilityScopeBody },
      handler: async (req: any) =>
        sessions.setCapabilityScope(req.params.session_id, req.body.capability_scope),
    });
    r.route({
      method,
      url: '/v1/sessions/:session_id/credential-scope',
      schema: { tags, params: SessionParams, body: CredentialScopeBody },
      handler: async (req: any) =>
        sessions.setCredentialScope(req.params.session_id, req.body.credential_scope),
    });
  }
  r.delete(
    '/v1/sessions/:session_id/route-policy',
    { schema: { tags, params: SessionParams } },
    async (req) => sessions.setRoutePolicy(req.params.session_id, null),
  );
  r.delete(
    '/v1/sessions/:session_id/capability-scope',
    { schema: { tags, params: SessionParams } },
    async (req) => sessions.setCapabilityScope(req.params.session_id, null),
  );
  r.delete(
    '/v1/sessions/:session_id/credential-scope',
    { schema: { tags, params: SessionParams } },
    async (req) => sessions.setCredentialScope(req.params.session_id, null),
  );
}
