// Probes, status, capabilities, runtime snapshot and the daemon-wide event stream.
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errors } from '../../errors/daemon-error.ts';
import type { AppContext, HttpApp } from '../../http/context.ts';
import { sendProblem } from '../../http/problem.ts';
import { serveStream } from '../../http/sse.ts';

export function registerRuntimeRoutes(app: HttpApp, ctx: AppContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { runtime } = ctx;

  r.get('/healthz', { schema: { hide: true } }, async (_req, reply) => reply.type('text/plain').send('ok\n'));
  r.get('/readyz', { schema: { hide: true } }, async (_req, reply) =>
    runtime.ready ? reply.type('text/plain').send('ready\n') : sendProblem(reply, errors.draining()),
  );
  r.get('/v1/status', { schema: { tags: ['runtime'] } }, async () => runtime.status());
  r.get('/v1/capabilities', { schema: { tags: ['runtime'] } }, async () => runtime.capabilities());
  r.get('/v1/runtime', { schema: { tags: ['runtime'] } }, async () => runtime.runtime());
  r.post(
    '/v1/runtime/model',
    {
      schema: {
        tags: ['runtime'],
        body: z
          .object({
            provider: z.string().min(1).optional(),
            model: z.string().min(1),
            expected_revision: z.number().int().min(0).optional(),
          })
          .strict(),
      },
    },
    async (req) => runtime.settings.setModel(req.body, () => runtime.runtime()),
  );
  r.get('/v1/runtime/routes', { schema: { tags: ['runtime'] } }, async () => runtime.routes());
  r.get(
    '/v1/events/stream',
    {
      schema: {
        tags: ['events'],
        querystring: z.object({
          session_id: z.string().optional(),
          run_id: z.string().optional(),
          cursor: z.string().optional(),
        }),
      },
    },
    async (req, reply) => {
      await serveStream(req, reply, ctx.engine.events, {
        session_id: req.query.session_id,
        run_id: req.query.run_id,
      });
    },
  );
}
