// GET /v1/runtime/doctor (admin only: hook host names and connector errors are not for readers).
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HttpApp } from '../../http/context.ts';
import type { DoctorService } from './service.ts';

export function registerDoctorRoutes(app: HttpApp, doctor: DoctorService): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/v1/runtime/doctor',
    {
      schema: {
        tags: ['runtime'],
        description:
          'Daemon-side checks for `kheish-daemon doctor`: disk space, store integrity (SQLite quick_check or PostgreSQL reachability and migrations), master key, workspace, sandbox, HTTP hook hosts, MCP servers, connector processes, routes-file drift.',
        querystring: z.object({
          integrity: z
            .enum(['true', 'false'])
            .optional()
            .describe('run the store integrity check (default true; it reads the whole SQLite file)'),
        }),
      },
    },
    async (req) => {
      const stop = new AbortController();
      req.raw.once('close', () => stop.abort());
      return doctor.checks({ integrity: req.query.integrity !== 'false', signal: stop.signal });
    },
  );

  app.withTypeProvider<ZodTypeProvider>().get(
    '/v1/runtime/doctor/routes',
    {
      schema: {
        tags: ['runtime'],
        description:
          'Route diagnostics for `kheish-daemon doctor routes`: route_file_drift always; with check_auth the secret slots routes name (missing, provider mismatch, expired); with check_references sessions, schedules and live runs naming a route that is gone.',
        querystring: z.object({
          check_auth: z.enum(['true', 'false']).optional(),
          check_references: z.enum(['true', 'false']).optional(),
          route: z.string().min(1).optional().describe('only this route (check_auth)'),
        }),
      },
    },
    async (req) =>
      doctor.routeChecks({
        auth: req.query.check_auth === 'true',
        references: req.query.check_references === 'true',
        route: req.query.route,
      }),
  );
}
