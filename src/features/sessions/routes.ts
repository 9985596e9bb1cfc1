// HTTP binding of the sessions API: parse, call the service, render.
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import type { HttpApp } from '../../http/context.ts';
import { fetchLimit, parsePage, renderPage } from '../../http/pagination.ts';
import { serveStream } from '../../http/sse.ts';
import { sseHeaders, sseQuerystring, sseResponse } from '../../http/sse-schema.ts';
import type { EventLog } from '../../store/event-log.ts';
import {
  BindPersonaBody,
  BudgetBody,
  CapabilityScopeBody,
  CreateSessionRequest,
  CredentialScopeBody,
  EndSessionBody,
  ListSessionsQuery,
  RoutePolicyBody,
  SessionParams,
  SessionView,
} from './schema.ts';
import type { SessionsService } from './service.ts';

export function registerSessionRoutes(app: HttpApp, sessions: SessionsService, events: EventLog): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['sessions'];

  r.post(
    '/v1/sessions',
    { schema: { tags, body: CreateSessionRequest.nullish(), response: { 201: SessionView } } },
    async (req, reply) => reply.code(201).send(await sessions.create(req.body ?? {})),
  );

  r.get('/v1/sessions', { schema: { tags, querystring: ListSessionsQuery } }, async (req) => {
    const page = parsePage(req.query);
    const { items, total } = await sessions.list({
      after: page.after,
      limit: fetchLimit(page),
      persona_id: req.query.persona_id,
    });
    return renderPage(page, items, {
      total,
      keyOf: (s) => s.session_id as string,
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
    {
      schema: {
        tags,
        params: SessionParams,
        querystring: sseQuerystring,
        headers: sseHeaders,
        response: sseResponse,
      },
    },
    async (req, reply) => {
      await sessions.require(req.params.session_id);
      await serveStream(req, reply, events, { session_id: req.params.session_id });
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

  // Persona binding (api-core §9): POST and PUT bind a snapshot of the record, DELETE clears it.
  for (const method of ['POST', 'PUT'] as const)
    r.route({
      method,
      url: '/v1/sessions/:session_id/persona',
      schema: { tags, params: SessionParams, body: BindPersonaBody, response: { 200: SessionView } },
      handler: async (req: any) => sessions.setPersona(req.params.session_id, req.body.persona_id),
    });
  r.delete(
    '/v1/sessions/:session_id/persona',
    { schema: { tags, params: SessionParams, response: { 200: SessionView } } },
    async (req) => sessions.setPersona(req.params.session_id, null),
  );

  // Session-scoped settings: POST and PUT replace, DELETE clears (same as a null body).
  const settings: Array<{
    path: string;
    body: z.ZodTypeAny;
    field: string;
    set: (id: string, value: any) => Promise<unknown>;
  }> = [
    {
      path: 'route-policy',
      body: RoutePolicyBody,
      field: 'route_policy',
      set: (id, v) => sessions.setRoutePolicy(id, v),
    },
    { path: 'budget', body: BudgetBody, field: 'budget', set: (id, v) => sessions.setBudget(id, v) },
    {
      path: 'capability-scope',
      body: CapabilityScopeBody,
      field: 'capability_scope',
      set: (id, v) => sessions.setCapabilityScope(id, v),
    },
    {
      path: 'credential-scope',
      body: CredentialScopeBody,
      field: 'credential_scope',
      set: (id, v) => sessions.setCredentialScope(id, v),
    },
  ];
  for (const setting of settings) {
    const url = `/v1/sessions/:session_id/${setting.path}`;
    for (const method of ['POST', 'PUT'] as const)
      r.route({
        method,
        url,
        schema: { tags, params: SessionParams, body: setting.body },
        handler: async (req: any) => setting.set(req.params.session_id, req.body[setting.field]),
      });
    r.delete(url, { schema: { tags, params: SessionParams } }, async (req) =>
      setting.set(req.params.session_id, null),
    );
  }
}
