// HTTP binding of the derivations API (api-core §8.5): parse, call the service, render.
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { HttpApp } from '../../http/context.ts';
import { fetchLimit, parsePage, renderPage } from '../../http/pagination.ts';
import {
  CreateDerivationQuery,
  CreateDerivationRequest,
  DerivationParams,
  DerivationView,
  ListDerivationsQuery,
} from './schema.ts';
import type { DerivationsService } from './service.ts';

const on = (v: string | undefined) => v === 'true' || v === '1';

export function registerDerivationRoutes(app: HttpApp, derivations: DerivationsService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['derivations'];

  r.get('/v1/derivations', { schema: { tags, querystring: ListDerivationsQuery } }, async (req) => {
    const page = parsePage(req.query);
    const { items, total } = await derivations.list({
      query: req.query.query,
      after: page.after,
      limit: fetchLimit(page),
    });
    return renderPage(page, items, { total, keyOf: (d) => d.derivation_id, order: 'derivation_id_asc' });
  });

  r.post(
    '/v1/derivations',
    {
      schema: {
        tags,
        querystring: CreateDerivationQuery,
        body: CreateDerivationRequest,
        response: { 200: DerivationView },
      },
    },
    async (req) =>
      derivations.create(req.body, {
        force_refresh: on(req.query.force_refresh),
        retry_failed: on(req.query.retry_failed),
      }),
  );

  r.get(
    '/v1/derivations/:derivation_id',
    { schema: { tags, params: DerivationParams, response: { 200: DerivationView } } },
    async (req) => derivations.get(req.params.derivation_id),
  );
}
