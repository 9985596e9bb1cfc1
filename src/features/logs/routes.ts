// GET /v1/logs?limit=N (admin only: it is not on the read-only allow-list of src/http/auth.ts).
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HttpApp } from '../../http/context.ts';
import type { LogsService } from './service.ts';

export function registerLogRoutes(app: HttpApp, logs: LogsService): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/v1/logs',
    {
      schema: {
        tags: ['runtime'],
        description:
          'The newest log records of this daemon process (a 5,000-record ring in memory), oldest first: timestamp_ms, level, target, message, fields.',
        querystring: z.object({ limit: z.string().optional().describe('how many records (default 1000)') }),
      },
    },
    async (req) => logs.recent(req.query.limit),
  );
}
