// HTTP binding of the hook settings and dead letters (ops-runtime §7.3–§7.4). Raw settings and
// dead letters are admin-only (src/http/auth.ts keeps every hooks GET off the read-only list).
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HttpApp } from '../../http/context.ts';
import type { HooksService } from './service.ts';

export function registerHookRoutes(app: HttpApp, hooks: HooksService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['runtime'];
  r.get('/v1/runtime/hooks', { schema: { tags } }, async () => hooks.raw());
  // The body is checked by the service so every bad shape answers runtime/invalid_hook_settings.
  r.post('/v1/runtime/hooks', { schema: { tags, body: z.unknown() } }, async (req) => hooks.set(req.body));
  r.get('/v1/runtime/hooks/dead-letter', { schema: { tags } }, async () => hooks.deadLetters());
  r.post(
    '/v1/runtime/hooks/dead-letter/:id/resolve',
    {
      schema: {
        tags,
        params: z.object({ id: z.string().min(1) }),
        body: z.object({ reason: z.string().trim().min(1) }).strict(),
      },
    },
    async (req) => hooks.resolve(req.params.id, req.body.reason),
  );
}
