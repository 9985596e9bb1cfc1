// HTTP binding of memory (api-core §3.5, §5.1): the session views and the run-memory policy.
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HttpApp } from '../../http/context.ts';
import {
  MemoryContextQuery,
  MemorySearchQuery,
  SessionMemoryContextView,
  SessionMemorySearchView,
} from './schema.ts';
import type { MemoryService } from './service.ts';
import { memoryContext, memorySearch, type ViewPorts } from './views.ts';

export function registerMemoryRoutes(app: HttpApp, memory: MemoryService, ports: ViewPorts): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const params = z.object({ session_id: z.string() });
  r.get(
    '/v1/sessions/:session_id/memory-context',
    {
      schema: {
        tags: ['sessions'],
        params,
        querystring: MemoryContextQuery,
        response: { 200: SessionMemoryContextView },
      },
    },
    async (req) => memoryContext(memory, ports, req.params.session_id, req.query.query),
  );
  r.get(
    '/v1/sessions/:session_id/memory-search',
    {
      schema: {
        tags: ['sessions'],
        params,
        querystring: MemorySearchQuery,
        response: { 200: SessionMemorySearchView },
      },
    },
    async (req) => memorySearch(memory, ports, req.params.session_id, req.query),
  );
  r.get('/v1/runtime/run-memory-policy', { schema: { tags: ['runtime'] } }, async () => memory.policyView());
  // The body is checked by the service so every bad shape answers runtime/invalid_run_memory_policy.
  r.post('/v1/runtime/run-memory-policy', { schema: { tags: ['runtime'], body: z.unknown() } }, async (req) =>
    memory.setPolicy(req.body),
  );
}
