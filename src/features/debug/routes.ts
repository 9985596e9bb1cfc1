// HTTP binding of the run debug surfaces (api-core §3.13). All three are admin-only when auth is
// on: src/http/auth.ts keeps them off the read-only allow-list.
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HttpApp } from '../../http/context.ts';
import {
  ArtifactParams,
  DebugParams,
  pruneRequest,
  RunDebugView,
  RunRetentionPruneResponse,
} from './schema.ts';
import type { DebugService } from './service.ts';

export function registerDebugRoutes(app: HttpApp, debug: DebugService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['runs'];
  r.get(
    '/v1/runs/:run_id/debug',
    { schema: { tags, params: DebugParams, response: { 200: RunDebugView } } },
    async (req) => debug.view(req.params.run_id),
  );
  r.get(
    '/v1/runs/:run_id/debug/artifacts/:artifact_id',
    { schema: { tags, params: ArtifactParams } },
    async (req, reply) => {
      const text = await debug.artifact(req.params.run_id, req.params.artifact_id);
      return reply.type('text/plain; charset=utf-8').send(text);
    },
  );
  // The body is checked by the service so every bad shape answers runs/run_retention_invalid_request.
  r.post(
    '/v1/runs/prune',
    { schema: { tags, body: z.unknown(), response: { 200: RunRetentionPruneResponse } } },
    async (req) => debug.prune(pruneRequest(req.body)),
  );
}
