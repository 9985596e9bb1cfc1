// HTTP binding of external connectors (api-collab §6.8): event and batch ingress, the credential
// broker endpoint of child-process sidecars and the delivery asset download. None of these take
// the control-plane token (src/http/auth.ts lists them as connector ingress): each checks the
// connector's shared token, or the launch's credential token.
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HttpApp } from '../../http/context.ts';
import { clientGone } from '../../http/disconnect.ts';
import {
  ExternalBatchRequest,
  ExternalBatchResponse,
  ExternalEventRequest,
  ExternalEventResponse,
  LIMITS,
} from './protocol.ts';
import type { ExternalConnectorsService } from './service.ts';

const NameParams = z.object({ name: z.string().min(1).max(128) });
const CredentialParams = NameParams.extend({ env_key: z.string().min(1).max(128) });
const AssetParams = NameParams.extend({
  delivery_id: z.string().min(1).max(200),
  asset_id: z.string().min(1).max(200),
});
const CredentialView = z.object({
  value: z.string(),
  lease_id: z.string(),
  grant_id: z.string(),
  expires_at_ms: z.number(),
});

export function registerExternalRoutes(app: HttpApp, svc: ExternalConnectorsService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['connectors'];

  // The daemon's own URL, for the children it launches (KHEISH_DAEMON_URL).
  app.addHook('onListen', async function () {
    const a = this.server.address();
    if (a && typeof a === 'object') {
      const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
      const shown = host === '0.0.0.0' ? '127.0.0.1' : host === '[::]' ? '[::1]' : host;
      svc.setDaemonUrl(`http://${shown}:${a.port}`);
    }
  });

  // Control plane (admin): where each sidecar child runs and how it is doing.
  r.get('/v1/runtime/external-connectors', { schema: { tags } }, async () => svc.status());

  r.post(
    '/v1/connectors/external/:name/events',
    {
      bodyLimit: LIMITS.eventBodyBytes,
      schema: {
        tags,
        params: NameParams,
        body: ExternalEventRequest,
        response: { 200: ExternalEventResponse },
      },
    },
    async (req, reply) =>
      svc.submitEvent(req.params.name, req.headers.authorization, req.body, clientGone(reply)),
  );

  r.post(
    '/v1/connectors/external/:name/events/batch',
    {
      bodyLimit: LIMITS.batchBodyBytes,
      schema: {
        tags,
        params: NameParams,
        body: ExternalBatchRequest,
        response: { 200: ExternalBatchResponse },
      },
    },
    async (req, reply) =>
      svc.submitBatch(req.params.name, req.headers.authorization, req.body, clientGone(reply)),
  );

  r.get(
    '/v1/connectors/external/:name/credentials/:env_key',
    { schema: { tags, params: CredentialParams, response: { 200: CredentialView } } },
    async (req, reply) => {
      const out = await svc.credential(req.params.name, req.params.env_key, req.headers.authorization);
      reply.header('cache-control', 'no-store');
      return out;
    },
  );

  r.get(
    '/v1/connectors/external/:name/deliveries/:delivery_id/assets/:asset_id/raw',
    { schema: { tags, params: AssetParams, response: { 200: z.any() } } },
    async (req, reply) => {
      const { view, bytes } = await svc.deliveryAsset(
        req.params.name,
        req.params.delivery_id,
        req.params.asset_id,
        req.headers.authorization,
      );
      return reply
        .header('content-type', view.media_type)
        .header('x-content-type-options', 'nosniff')
        .header('cache-control', 'no-store')
        .send(Buffer.from(bytes));
    },
  );
}
