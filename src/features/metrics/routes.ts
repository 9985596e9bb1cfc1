// GET /metrics on the API listener (the tokens of /v1/status: src/http/auth.ts).
import type { HttpApp } from '../../http/context.ts';
import type { MetricsService } from './service.ts';

export function registerMetricsRoutes(app: HttpApp, metrics: MetricsService): void {
  app.get(
    '/metrics',
    {
      schema: {
        tags: ['runtime'],
        description:
          'Prometheus text exposition (version 0.0.4): run, queue, model, tool, delivery, event-stream, store and replica metrics (docs/operations.md).',
      },
    },
    async (_req, reply) => {
      const { contentType, body } = await metrics.scrape();
      return reply.type(contentType).send(body);
    },
  );
}
