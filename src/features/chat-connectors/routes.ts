// Ingress routes of the chat connectors (api-collab §6.5, §6.6): outside control-plane auth (each
// connector authenticates its platform), with the raw body kept for signature checks. Parse, call
// the service, render: the platform's acknowledgement JSON on success, problem+json otherwise.
import type { FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HttpApp } from '../../http/context.ts';
import { problemBody, sendProblem } from '../../http/problem.ts';
import type { ChatConnectorsService } from './service.ts';
import { type ChatIngressReply, IngressRateLimited } from './shared/ingress-reply.ts';

/** Slack and Telegram events are small; a larger body is not one of theirs. */
const INGRESS_BODY_LIMIT = 1024 * 1024;

const Params = z.object({ name: z.string().min(1) });

const Ack = z
  .object({
    ok: z.boolean().optional(),
    status: z.string().optional(),
    reason: z.string().optional(),
    session_id: z.string().optional(),
    run_id: z.string().optional(),
    challenge: z.string().optional(),
  })
  .meta({ id: 'ChatConnectorIngressAck' });

async function answer(reply: FastifyReply, work: () => Promise<ChatIngressReply>, withRetryMs: boolean) {
  try {
    const r = await work();
    return reply.code(r.status).send(r.body);
  } catch (err) {
    if (err instanceof IngressRateLimited && withRetryMs) {
      // Telegram's 429 also says the exact wait in milliseconds (api-collab §6.6).
      for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
      return reply
        .code(429)
        .header('content-type', 'application/problem+json')
        .send(Buffer.from(JSON.stringify({ ...problemBody(err), retry_after_ms: err.retryAfterMs })));
    }
    if (err instanceof IngressRateLimited) return sendProblem(reply, err);
    throw err;
  }
}

export function registerChatConnectorRoutes(app: HttpApp, svc: ChatConnectorsService): void {
  app.register(async (scope) => {
    // The exact bytes are signed (Slack) and fingerprinted: keep them, parse in the service.
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) =>
      done(null, body),
    );
    const r = scope.withTypeProvider<ZodTypeProvider>();
    const tags = ['connectors'];
    const raw = (body: unknown) => (Buffer.isBuffer(body) ? body : Buffer.alloc(0));

    r.post(
      '/v1/connectors/slack/:name',
      { bodyLimit: INGRESS_BODY_LIMIT, schema: { tags, params: Params, response: { 200: Ack } } },
      async (req, reply) =>
        answer(
          reply,
          () => svc.slack.handle({ name: req.params.name, headers: req.headers, rawBody: raw(req.body) }),
          false,
        ),
    );

    r.post(
      '/v1/connectors/telegram/:name',
      { bodyLimit: INGRESS_BODY_LIMIT, schema: { tags, params: Params, response: { 200: Ack } } },
      async (req, reply) =>
        answer(
          reply,
          () => svc.telegram.webhook({ name: req.params.name, headers: req.headers, rawBody: raw(req.body) }),
          true,
        ),
    );
  });
}
