// HTTP binding of mailboxes (api-core §6.1): post, non-draining peek, dead letters, ack.
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { HttpApp } from '../../http/context.ts';
import { AckParams, AgentParams, PostMailboxRequest } from './schema.ts';
import type { MailboxesService } from './service.ts';

export function registerMailboxRoutes(app: HttpApp, mailboxes: MailboxesService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['mailboxes'];

  r.post('/v1/mailboxes', { schema: { tags, body: PostMailboxRequest } }, async (req, reply) =>
    reply.code(202).send(await mailboxes.post(req.body)),
  );
  r.get('/v1/agents/:agent_id/mailbox', { schema: { tags, params: AgentParams } }, async (req) =>
    mailboxes.peek(req.params.agent_id),
  );
  r.get('/v1/agents/:agent_id/mailbox/dead-letter', { schema: { tags, params: AgentParams } }, async (req) =>
    mailboxes.deadLetters(req.params.agent_id),
  );
  r.post(
    '/v1/agents/:agent_id/mailbox/:message_id/ack',
    { schema: { tags, params: AckParams } },
    async (req) => mailboxes.ack(req.params.agent_id, req.params.message_id),
  );
}
