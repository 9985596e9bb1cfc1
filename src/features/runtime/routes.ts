// Probes, status, capabilities, runtime snapshot and the daemon-wide event stream. The live
// settings and their revisions are bound in settings-routes.ts.
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HttpApp } from '../../http/context.ts';
import { sendProblem } from '../../http/problem.ts';
import { serveStream } from '../../http/sse.ts';
import { sseHeaders, sseQuery, sseResponse } from '../../http/sse-schema.ts';
import type { EventLog } from '../../store/event-log.ts';
import { PERMISSION_MODES } from '../../tools/permissions.ts';
import type { RuntimeService } from './service.ts';

export function registerRuntimeRoutes(app: HttpApp, runtime: RuntimeService, events: EventLog): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get('/healthz', { schema: { hide: true } }, async (_req, reply) => reply.type('text/plain').send('ok\n'));
  r.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
    const problem = await runtime.notReady();
    return problem ? sendProblem(reply, problem) : reply.type('text/plain').send('ready\n');
  });
  r.get('/v1/status', { schema: { tags: ['runtime'] } }, async () => runtime.status());
  r.get('/v1/capabilities', { schema: { tags: ['runtime'] } }, async () => runtime.capabilities());
  r.get('/v1/runtime', { schema: { tags: ['runtime'] } }, async () => runtime.runtime());
  r.get('/v1/runtime/tool-limits', { schema: { tags: ['runtime'] } }, async () => runtime.toolLimits());
  r.post(
    '/v1/runtime/permissions/check',
    {
      schema: {
        tags: ['runtime'],
        body: z
          .object({
            tool_name: z.string().min(1),
            tool_call_id: z.string().optional(),
            session_id: z.string().optional(),
            input: z.unknown().optional(),
            mode_override: z.enum(PERMISSION_MODES).optional(),
          })
          .strict(),
      },
    },
    async (req) => runtime.checkPermission(req.body),
  );
  r.post(
    '/v1/runtime/permissions/matrix',
    {
      schema: { tags: ['runtime'], body: z.object({ session_id: z.string().optional() }).strict().nullish() },
    },
    async (req) => runtime.permissionMatrix(req.body?.session_id),
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
          ...sseQuery,
        }),
        headers: sseHeaders,
        response: sseResponse,
      },
    },
    async (req, reply) => {
      await serveStream(req, reply, events, {
        session_id: req.query.session_id,
        run_id: req.query.run_id,
      });
    },
  );
}
