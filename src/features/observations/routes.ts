// HTTP binding of the observations API (api-core §8.1–8.4): parse, call the service, render. The
// upload and heartbeat routes carry their own bearer auth (src/http/auth.ts leaves them alone).
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { HttpApp } from '../../http/context.ts';
import { parsePage, renderPage } from '../../http/pagination.ts';
import {
  CaptureAgentView,
  CaptureAlertView,
  HeartbeatRequest,
  MachineParams,
  ProvisionRequest,
  ProvisionResponse,
  RevokeAgentRequest,
} from './capture-schema.ts';
import {
  AuditQuery,
  CreateSourceRequest,
  ListObservationsQuery,
  ListSourcesQuery,
  MaterializationRequest,
  ObservationParams,
  ObservationSourceView,
  ObservationView,
  RevokeTokenRequest,
  RotateTokenRequest,
  SourceParams,
  UploadRequest,
} from './schema.ts';
import type { ObservationsService } from './service.ts';
import { bearerOf } from './tokens.ts';

export function registerObservationRoutes(app: HttpApp, svc: ObservationsService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['observations'];

  r.get('/v1/observation-sources', { schema: { tags, querystring: ListSourcesQuery } }, async (req) => {
    const page = parsePage(req.query);
    const all = await svc.sources.list(req.query.query);
    const after = page.after;
    const rest = after === undefined ? all : all.filter((s) => s.source_id > after);
    const items =
      page.limit === undefined ? rest : rest.slice(0, page.paginated ? page.limit + 1 : page.limit);
    return renderPage(page, items, { total: all.length, keyOf: (s) => s.source_id, order: 'source_id_asc' });
  });

  r.post(
    '/v1/observation-sources',
    {
      schema: {
        tags,
        body: CreateSourceRequest,
        response: { 200: ObservationSourceView, 201: ObservationSourceView },
      },
    },
    async (req, reply) => {
      const { created, view } = await svc.sources.create(req.body);
      return reply.code(created ? 201 : 200).send(view);
    },
  );

  r.get(
    '/v1/observation-sources/:source_id',
    { schema: { tags, params: SourceParams, response: { 200: ObservationSourceView } } },
    async (req) => svc.sources.get(req.params.source_id),
  );

  r.post(
    '/v1/observation-sources/:source_id/rotate-token',
    {
      schema: {
        tags,
        params: SourceParams,
        body: RotateTokenRequest,
        response: { 200: ObservationSourceView },
      },
    },
    async (req) => svc.sources.rotate(req.params.source_id, req.body),
  );

  r.post(
    '/v1/observation-sources/:source_id/revoke-token',
    {
      schema: {
        tags,
        params: SourceParams,
        body: RevokeTokenRequest,
        response: { 200: ObservationSourceView },
      },
    },
    async (req) => svc.sources.revoke(req.params.source_id, req.body?.reason),
  );

  r.post(
    '/v1/observation-sources/:source_id/observations',
    {
      schema: {
        tags,
        params: SourceParams,
        body: UploadRequest,
        response: { 200: ObservationView, 201: ObservationView },
        description: 'Authorization: Bearer <upload_token> of the source (not the control-plane token).',
      },
      // The source token is checked before the body is validated.
      preValidation: async (req) => {
        const { source_id } = req.params as { source_id: string };
        await svc.ingress.authorize(source_id, bearerOf(req.headers.authorization));
      },
    },
    async (req, reply) => {
      const { created, view } = await svc.ingress.upload(
        req.params.source_id,
        bearerOf(req.headers.authorization),
        req.body,
      );
      return reply.code(created ? 201 : 200).send(view);
    },
  );

  r.get('/v1/observations', { schema: { tags, querystring: ListObservationsQuery } }, async (req) =>
    svc.list(req.query),
  );

  r.get(
    '/v1/observations/:observation_id',
    { schema: { tags, params: ObservationParams, response: { 200: ObservationView } } },
    async (req) => svc.getView(req.params.observation_id),
  );

  r.get('/v1/observation-audit', { schema: { tags, querystring: AuditQuery } }, async (req) =>
    svc.audit(req.query),
  );

  r.post(
    '/v1/observation-materializations',
    { schema: { tags, body: MaterializationRequest } },
    async (req, reply) => reply.code(202).send(await svc.materialize(req.body)),
  );

  const capture = ['capture'];
  r.post(
    '/v1/capture-agent-provisions',
    { schema: { tags: capture, body: ProvisionRequest, response: { 201: ProvisionResponse } } },
    async (req, reply) => reply.code(201).send(await svc.capture.provision(req.body)),
  );
  r.get('/v1/capture-agents', { schema: { tags: capture } }, async () => svc.capture.list());
  r.get(
    '/v1/capture-agents/:machine_id',
    { schema: { tags: capture, params: MachineParams, response: { 200: CaptureAgentView } } },
    async (req) => svc.capture.get(req.params.machine_id),
  );
  r.get(
    '/v1/capture-alerts',
    { schema: { tags: capture, response: { 200: CaptureAlertView.array() } } },
    async () => svc.capture.alerts(),
  );
  r.post(
    '/v1/capture-agents/:machine_id/heartbeat',
    {
      schema: {
        tags: capture,
        params: MachineParams,
        body: HeartbeatRequest,
        response: { 200: CaptureAgentView },
        description: 'Authorization: Bearer <heartbeat_token> of the agent (not the control-plane token).',
      },
    },
    async (req) =>
      svc.capture.heartbeat(req.params.machine_id, bearerOf(req.headers.authorization), req.body ?? {}),
  );
  r.post(
    '/v1/capture-agents/:machine_id/revoke',
    {
      schema: {
        tags: capture,
        params: MachineParams,
        body: RevokeAgentRequest,
        response: { 200: CaptureAgentView },
      },
    },
    async (req) => svc.capture.revoke(req.params.machine_id, req.body?.reason),
  );
}
