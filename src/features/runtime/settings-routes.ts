// HTTP binding of the live runtime settings and their revisions (ops-runtime §11).
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HttpApp } from '../../http/context.ts';
import { PERMISSION_MODES } from '../../tools/permissions.ts';
import { DEBUG_LEVELS, modelValue, SystemPromptSettings, toolLimitsValue } from './core-settings.ts';
import { AddRouteBody } from './live-routes.ts';
import type { RuntimeService } from './service.ts';
import { HISTORY_LIMIT } from './settings.ts';

const expected_revision = z.number().int().min(0).optional();

export function registerSettingsRoutes(app: HttpApp, runtime: RuntimeService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const view = () => runtime.runtime();
  const tags = ['runtime'];

  r.post(
    '/v1/runtime/model',
    {
      schema: {
        tags,
        body: z
          .object({ provider: z.string().min(1).optional(), model: z.string().min(1), expected_revision })
          .strict(),
      },
    },
    async (req) => runtime.settings.mutate('model', modelValue(runtime.engine, req.body), req.body, view),
  );
  r.post(
    '/v1/runtime/permission-mode',
    { schema: { tags, body: z.object({ mode: z.enum(PERMISSION_MODES), expected_revision }).strict() } },
    async (req) => runtime.settings.mutate('permission_mode', req.body.mode, req.body, view),
  );
  // The body is checked by the service so every bad shape answers runtime/invalid_tool_runtime_limits.
  r.post(
    '/v1/runtime/tool-limits',
    {
      schema: {
        tags,
        body: z.object({ limits: z.unknown(), expected_revision: z.unknown() }).partial().strict(),
      },
    },
    async (req) =>
      runtime.settings.mutate(
        'tool_limits',
        toolLimitsValue(req.body),
        { expected_revision: req.body.expected_revision as number | undefined },
        view,
      ),
  );
  r.post(
    '/v1/runtime/debug-level',
    { schema: { tags, body: z.object({ level: z.enum(DEBUG_LEVELS), expected_revision }).strict() } },
    async (req) => runtime.settings.mutate('debug_level', req.body.level, req.body, view),
  );
  r.get('/v1/runtime/system-prompt', { schema: { tags } }, async () => ({
    settings: runtime.settings.value('system_prompt') ?? {},
    revision: runtime.settings.record.revision,
  }));
  r.post(
    '/v1/runtime/system-prompt',
    { schema: { tags, body: z.object({ settings: SystemPromptSettings, expected_revision }).strict() } },
    async (req) => runtime.settings.mutate('system_prompt', req.body.settings, req.body, view),
  );
  // Runtime-added model routes (GET /v1/runtime/routes lists every route, in routes.ts).
  r.post('/v1/runtime/routes', { schema: { tags, body: AddRouteBody } }, async (req, reply) => {
    const added = await runtime.liveRoutes.add(req.body, view);
    return reply.code(201).send(added);
  });
  r.delete(
    '/v1/runtime/routes/:route_id',
    {
      schema: {
        tags,
        params: z.object({ route_id: z.string().min(1) }),
        querystring: z
          .object({ expected_revision: z.coerce.number().int().min(0).optional() })
          .strict()
          .optional(),
      },
    },
    async (req) =>
      runtime.liveRoutes.remove(
        req.params.route_id,
        { expected_revision: req.query?.expected_revision },
        view,
      ),
  );
  r.get('/v1/runtime/revisions', { schema: { tags } }, async () => ({
    current_revision: runtime.settings.record.revision,
    history_limit: HISTORY_LIMIT,
    revisions: runtime.settings.revisions(),
  }));
  r.post(
    '/v1/runtime/rollback',
    {
      schema: {
        tags,
        body: z
          .object({
            target_revision: z.number().int().min(0).optional(),
            expected_revision,
            skip_hooks: z.boolean().optional(),
          })
          .strict()
          .nullish(),
      },
    },
    async (req) => runtime.settings.rollback(req.body?.target_revision, req.body ?? {}, view),
  );
}
