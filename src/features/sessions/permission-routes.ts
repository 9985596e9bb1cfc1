// HTTP binding of session permission rules and the permission audit log.
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HttpApp } from '../../http/context.ts';
import { fetchLimit, parsePage, renderPage } from '../../http/pagination.ts';
import type { SessionPermissionsService } from './permissions.ts';
import { SessionParams } from './schema.ts';

const Rule = z
  .object({ pattern: z.string().min(1).max(200), decision: z.enum(['allow', 'ask', 'deny']) })
  .strict();
const PageQuery = z.object({
  page: z.string().optional(),
  cursor: z.string().optional(),
  limit: z.string().optional(),
});

export function registerSessionPermissionRoutes(app: HttpApp, svc: SessionPermissionsService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['sessions'];
  const path = '/v1/sessions/:session_id/permission-rules';

  r.get(path, { schema: { tags, params: SessionParams } }, async (req) => svc.rules(req.params.session_id));
  r.put(
    path,
    { schema: { tags, params: SessionParams, body: z.object({ rules: z.array(Rule) }).strict() } },
    async (req) => svc.replace(req.params.session_id, req.body.rules),
  );
  r.post(path, { schema: { tags, params: SessionParams, body: Rule } }, async (req) =>
    svc.add(req.params.session_id, req.body),
  );
  r.delete(
    path,
    {
      schema: {
        tags,
        params: SessionParams,
        querystring: z.object({ pattern: z.string().min(1).optional() }),
      },
    },
    async (req) => svc.remove(req.params.session_id, req.query.pattern),
  );

  r.get(
    '/v1/sessions/:session_id/permission-audits',
    { schema: { tags, params: SessionParams, querystring: PageQuery } },
    async (req) => {
      const page = parsePage(req.query);
      const { items, total } = await svc.audits(req.params.session_id, {
        after: page.after,
        limit: fetchLimit(page),
      });
      return renderPage(page, items, { total, keyOf: (a) => String(a.audit_id), order: 'audit_id_asc' });
    },
  );
}
