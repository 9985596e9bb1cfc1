// HTTP binding of the connector registry (control plane, admin) and the HTTP connector's ingress
// route (its own auth, outside the control plane: src/http/auth.ts lets it through).
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HttpApp } from '../../http/context.ts';
import { encodeCursor, parsePage } from '../../http/pagination.ts';
import { ConnectorParams, ConnectorPutBody, IngressResponse } from './schema.ts';
import type { ConnectorsService } from './service.ts';

/** Largest HTTP ingress body (decision 273): room for inline assets, far below the control plane's. */
export const HTTP_INGRESS_BODY_LIMIT = 8 * 1024 * 1024;

const ListQuery = z.object({
  page: z.string().optional(),
  cursor: z.string().optional(),
  limit: z.string().optional(),
});

export function registerConnectorRoutes(app: HttpApp, connectors: ConnectorsService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['connectors'];

  r.get('/v1/runtime/connectors', { schema: { tags, querystring: ListQuery } }, async (req) => {
    const page = parsePage(req.query);
    const all = await connectors.list();
    if (!page.paginated) return page.limit === undefined ? all : all.slice(0, page.limit);
    const key = (v: Record<string, unknown>) => `${v.kind}/${v.name}`;
    const after = page.after;
    const rest = after === undefined ? all : all.filter((v) => key(v) > after);
    const shown = rest.slice(0, page.limit);
    const last = shown.at(-1);
    return {
      items: shown,
      limit: page.limit,
      total: all.length,
      has_more: rest.length > shown.length,
      next_cursor: rest.length > shown.length && last ? encodeCursor(key(last)) : null,
      order: 'kind_name_asc',
    };
  });

  r.get('/v1/runtime/connectors/:kind/:name', { schema: { tags, params: ConnectorParams } }, async (req) =>
    connectors.view(req.params.kind, req.params.name),
  );

  r.put(
    '/v1/runtime/connectors/:kind/:name',
    { schema: { tags, params: ConnectorParams, body: ConnectorPutBody } },
    async (req) => connectors.put(req.params.kind, req.params.name, req.body),
  );

  r.delete('/v1/runtime/connectors/:kind/:name', { schema: { tags, params: ConnectorParams } }, async (req) =>
    connectors.remove(req.params.kind, req.params.name),
  );

  // The signature covers the exact bytes: this route reads the body raw, whatever its content type.
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: HTTP_INGRESS_BODY_LIMIT },
      (_req, body, done) => done(null, body),
    );
    const s = scope.withTypeProvider<ZodTypeProvider>();
    s.post(
      '/v1/connectors/http/:name',
      {
        bodyLimit: HTTP_INGRESS_BODY_LIMIT,
        schema: {
          tags: ['connector-ingress'],
          params: z.object({ name: z.string() }),
          response: { 200: IngressResponse, 202: IngressResponse },
        },
      },
      async (req, reply) => {
        const out = await connectors.httpIngress(req.params.name, {
          url: req.url,
          body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
          headers: req.headers,
          rawHeaders: req.raw.rawHeaders,
        });
        return reply.code(out.status === 'accepted' ? 202 : 200).send(out);
      },
    );
  });
}
