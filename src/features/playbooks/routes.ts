// HTTP binding of the Playbooks and Flows API (api-collab §3.2): parse, call the service, render.
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { HttpApp } from '../../http/context.ts';
import { serveStream } from '../../http/sse.ts';
import { sseHeaders, sseQuerystring, sseResponse } from '../../http/sse-schema.ts';
import type { EventLog } from '../../store/event-log.ts';
import { pbErrors } from './errors.ts';
import type { PlaybooksFeature } from './index.ts';
import {
  EvidenceRequest,
  FlowParams,
  ListFlowsQuery,
  ListPlaybooksQuery,
  ManifestBody,
  PlaybookParams,
  PublishRequest,
  RevokeRequest,
  StartFlowRequest,
  VerifyProductViewRequest,
} from './schema.ts';

export function registerPlaybookRoutes(app: HttpApp, f: PlaybooksFeature, events: EventLog): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['playbooks'];
  const { catalog, flows } = f;

  r.get('/v1/playbooks', { schema: { tags, querystring: ListPlaybooksQuery } }, async (req) =>
    catalog.list(req.query),
  );
  r.post('/v1/playbooks', { schema: { tags, body: ManifestBody } }, async (req) =>
    catalog.create(req.body.manifest),
  );
  r.post('/v1/playbooks/validate', { schema: { tags, body: ManifestBody } }, async (req) =>
    catalog.validate(req.body.manifest),
  );
  r.get('/v1/playbooks/:playbook_id', { schema: { tags, params: PlaybookParams } }, async (req) =>
    catalog.get(req.params.playbook_id),
  );
  r.post(
    '/v1/playbooks/:playbook_id/publish',
    { schema: { tags, params: PlaybookParams, body: PublishRequest } },
    async (req) => catalog.publish(req.params.playbook_id, req.body),
  );
  r.post(
    '/v1/playbooks/:playbook_id/revoke',
    { schema: { tags, params: PlaybookParams, body: RevokeRequest } },
    async (req) => catalog.revoke(req.params.playbook_id, req.body),
  );

  const ftags = ['flows'];
  r.get('/v1/flows', { schema: { tags: ftags, querystring: ListFlowsQuery } }, async (req) =>
    flows.list(req.query),
  );
  r.post('/v1/flows', { schema: { tags: ftags, body: StartFlowRequest } }, async (req) =>
    flows.start(req.body),
  );
  r.get('/v1/flows/:flow_id', { schema: { tags: ftags, params: FlowParams } }, async (req) =>
    flows.get(req.params.flow_id),
  );
  r.post('/v1/flows/:flow_id/cancel', { schema: { tags: ftags, params: FlowParams } }, async (req) =>
    flows.cancel(req.params.flow_id),
  );
  r.post(
    '/v1/flows/:flow_id/evidence',
    { schema: { tags: ftags, params: FlowParams, body: EvidenceRequest } },
    async (req) => flows.appendEvidence(req.params.flow_id, req.body.evidence_refs),
  );
  r.post(
    '/v1/flows/:flow_id/verify/product-view',
    { schema: { tags: ftags, params: FlowParams, body: VerifyProductViewRequest } },
    async (req) => flows.verifyProductView(req.params.flow_id, req.body),
  );
  // A thin proxy: the root run's own event stream, no separate Flow bus (§3.7).
  r.get(
    '/v1/flows/:flow_id/stream',
    {
      schema: {
        tags: ftags,
        params: FlowParams,
        querystring: sseQuerystring,
        headers: sseHeaders,
        response: sseResponse,
      },
    },
    async (req, reply) => {
      const runId = await flows.rootRunId(req.params.flow_id);
      if (!runId) throw pbErrors.noRun(req.params.flow_id);
      await serveStream(req, reply, events, { run_id: runId });
    },
  );
}
