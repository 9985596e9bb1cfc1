// HTTP binding of the personas API (api-core §9): parse, call the service, render. The session
// binding routes (`/v1/sessions/{id}/persona`) belong to the sessions feature.
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { HttpApp } from '../../http/context.ts';
import { fetchLimit, parsePage, renderPage } from '../../http/pagination.ts';
import {
  CreatePersonaRequest,
  ListPersonasQuery,
  PersonaParams,
  PersonaView,
  UpdatePersonaRequest,
} from './schema.ts';
import type { PersonasService } from './service.ts';

export function registerPersonaRoutes(app: HttpApp, personas: PersonasService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['personas'];

  r.get('/v1/personas', { schema: { tags, querystring: ListPersonasQuery } }, async (req) => {
    const page = parsePage(req.query);
    const { items, total } = await personas.list({
      query: req.query.query,
      after: page.after,
      limit: fetchLimit(page),
    });
    return renderPage(page, items, { total, keyOf: (p) => p.persona_id, order: 'persona_id_asc' });
  });

  r.post(
    '/v1/personas',
    { schema: { tags, body: CreatePersonaRequest, response: { 201: PersonaView } } },
    async (req, reply) => reply.code(201).send(await personas.create(req.body)),
  );

  r.get(
    '/v1/personas/:persona_id',
    { schema: { tags, params: PersonaParams, response: { 200: PersonaView } } },
    async (req) => personas.get(req.params.persona_id),
  );

  r.put(
    '/v1/personas/:persona_id',
    { schema: { tags, params: PersonaParams, body: UpdatePersonaRequest, response: { 200: PersonaView } } },
    async (req) => personas.update(req.params.persona_id, req.body),
  );

  r.delete('/v1/personas/:persona_id', { schema: { tags, params: PersonaParams } }, async (req) =>
    personas.delete(req.params.persona_id),
  );
}
