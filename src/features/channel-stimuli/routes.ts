// HTTP binding of stimuli and thread-work (api-collab §1.2, §1.8, §1.9): parse, call, render.
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { HttpApp } from '../../http/context.ts';
import { CreateStimulusRequest, StimuliQuery, StimulusChannelParams, ThreadWorkQuery } from './schema.ts';
import type { ChannelStimuliService } from './service.ts';

export function registerStimulusRoutes(app: HttpApp, svc: ChannelStimuliService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['channels'];
  r.get(
    '/v1/channels/:channel_id/stimuli',
    { schema: { tags, params: StimulusChannelParams, querystring: StimuliQuery } },
    async (req) => svc.list(req.params.channel_id, req.query),
  );
  // 201: a new stimulus record, like the channel create (decision 355).
  r.post(
    '/v1/channels/:channel_id/stimuli',
    { schema: { tags, params: StimulusChannelParams, body: CreateStimulusRequest } },
    async (req, reply) => reply.code(201).send(await svc.create(req.params.channel_id, req.body)),
  );
  r.get(
    '/v1/channels/:channel_id/thread-work',
    { schema: { tags, params: StimulusChannelParams, querystring: ThreadWorkQuery } },
    async (req) => svc.threadWork(req.params.channel_id, req.query.thread_root_message_id),
  );
}
