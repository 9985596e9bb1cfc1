// GET /v1/docs (manifest) and GET /v1/docs/{page} (markdown).
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HttpApp } from '../../http/context.ts';
import type { DocsService } from './service.ts';

export function registerDocsRoutes(app: HttpApp, docs: DocsService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['docs'];
  r.get('/v1/docs', { schema: { tags, description: "The daemon's documentation manifest" } }, async () =>
    docs.manifest(),
  );
  r.get(
    '/v1/docs/:page',
    {
      schema: {
        tags,
        params: z.object({ page: z.string().min(1) }),
        response: { 200: { description: 'the page', content: { 'text/markdown': { schema: z.string() } } } },
      },
    },
    async (req, reply) => reply.type('text/markdown; charset=utf-8').send(docs.page(req.params.page)),
  );
}
