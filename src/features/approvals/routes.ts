// HTTP binding of approvals and structured questions (api-core §4).
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HttpApp } from '../../http/context.ts';
import { envelope, parsePage } from '../../http/pagination.ts';
import { CancelQuestionRequest, QuestionsQuery, ResolveUserQuestionRequest } from '../questions/schema.ts';
import type { QuestionsService } from '../questions/service.ts';
import type { SessionsService } from '../sessions/service.ts';
import { ResolveApprovalsRequest } from './schema.ts';
import type { ApprovalsService } from './service.ts';

const SessionParams = z.object({ session_id: z.string().min(1) });
const RunParams = z.object({ run_id: z.string().min(1) });

export function registerApprovalRoutes(
  app: HttpApp,
  approvals: ApprovalsService,
  questions: QuestionsService,
  sessions: SessionsService,
): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['approvals'];
  const key = (h: unknown) => h as string | string[] | undefined;

  r.get(
    '/v1/approvals',
    { schema: { tags, querystring: z.object({ session_id: z.string().optional() }) } },
    async (req) => approvals.list({ session_id: req.query.session_id }),
  );
  // The pending approvals of one session (the published docs' human-loop surface, beside /questions).
  r.get('/v1/sessions/:session_id/approvals', { schema: { tags, params: SessionParams } }, async (req) => {
    await sessions.require(req.params.session_id);
    return approvals.list({ session_id: req.params.session_id });
  });
  r.post(
    '/v1/sessions/:session_id/approvals',
    { schema: { tags, params: SessionParams, body: ResolveApprovalsRequest } },
    async (req) => {
      await approvals.resolveForSession(req.params.session_id, req.body, key(req.headers['idempotency-key']));
      return approvals.sessionView(req.params.session_id);
    },
  );
  r.post(
    '/v1/sessions/:session_id/approval-runs',
    { schema: { tags, params: SessionParams, body: ResolveApprovalsRequest } },
    async (req, reply) => {
      const run = await approvals.resolveForSession(
        req.params.session_id,
        req.body,
        key(req.headers['idempotency-key']),
      );
      return reply
        .code(202)
        .send(await approvals.resolveForRunView(run.run_id, req.body, key(req.headers['idempotency-key'])));
    },
  );
  r.post(
    '/v1/runs/:run_id/approvals',
    { schema: { tags, params: RunParams, body: ResolveApprovalsRequest } },
    async (req, reply) =>
      reply
        .code(202)
        .send(
          await approvals.resolveForRunView(req.params.run_id, req.body, key(req.headers['idempotency-key'])),
        ),
  );

  const qtags = ['questions'];
  const listQuestions = async (query: z.infer<typeof QuestionsQuery>, sessionId?: string) => {
    const page = parsePage(query);
    const items = await questions.list({
      session_id: sessionId ?? query.session_id,
      after: page.after,
      limit: page.limit === undefined ? undefined : page.limit + 1,
    });
    if (!page.paginated) return items;
    const limit = page.limit!;
    const shown = items.slice(0, limit);
    return envelope(shown, {
      limit,
      total: shown.length,
      hasMore: items.length > limit,
      lastKey: (shown.at(-1)?.request as { id?: string } | undefined)?.id,
      order: 'session_id_asc,request_id_asc',
    });
  };
  r.get('/v1/questions', { schema: { tags: qtags, querystring: QuestionsQuery } }, async (req) =>
    listQuestions(req.query),
  );
  r.get(
    '/v1/sessions/:session_id/questions',
    { schema: { tags: qtags, params: SessionParams, querystring: QuestionsQuery } },
    async (req) => {
      await sessions.require(req.params.session_id);
      return listQuestions(req.query, req.params.session_id);
    },
  );
  r.post(
    '/v1/sessions/:session_id/questions',
    { schema: { tags: qtags, params: SessionParams, body: ResolveUserQuestionRequest } },
    async (req) =>
      questions.resolveForSession(req.params.session_id, req.body, key(req.headers['idempotency-key'])),
  );
  r.post(
    '/v1/runs/:run_id/questions',
    { schema: { tags: qtags, params: RunParams, body: ResolveUserQuestionRequest } },
    async (req, reply) =>
      reply
        .code(202)
        .send(
          await questions.resolveForRunView(req.params.run_id, req.body, key(req.headers['idempotency-key'])),
        ),
  );
  r.post(
    '/v1/runs/:run_id/questions/:request_id/cancel',
    {
      schema: {
        tags: qtags,
        params: z.object({ run_id: z.string().min(1), request_id: z.string().min(1) }),
        body: CancelQuestionRequest,
      },
    },
    async (req) =>
      questions.cancel(
        req.params.run_id,
        req.params.request_id,
        req.body,
        key(req.headers['idempotency-key']),
      ),
  );
}
