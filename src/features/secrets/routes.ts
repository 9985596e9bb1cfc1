// HTTP binding of the secrets API. Admin-only (src/http/auth.ts lists /v1/runtime/secrets among
// the admin reads); no handler ever returns a secret value.
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { HttpApp } from '../../http/context.ts';
import { AuthSlotRecord, AuthSlotStatusView, SecretDeleteResponse, SecretParams } from './schema.ts';
import type { SecretsService } from './service.ts';

export function registerSecretRoutes(app: HttpApp, secrets: SecretsService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['secrets'];

  r.get(
    '/v1/runtime/secrets',
    { schema: { tags, response: { 200: AuthSlotStatusView.array() } } },
    async () => secrets.list(),
  );

  r.post(
    '/v1/runtime/secrets',
    { schema: { tags, body: AuthSlotRecord, response: { 200: AuthSlotStatusView } } },
    async (req) => secrets.put(req.body),
  );

  r.get(
    '/v1/runtime/secrets/:secret_ref',
    { schema: { tags, params: SecretParams, response: { 200: AuthSlotStatusView } } },
    async (req) => secrets.get(req.params.secret_ref),
  );

  r.delete(
    '/v1/runtime/secrets/:secret_ref',
    { schema: { tags, params: SecretParams, response: { 200: SecretDeleteResponse } } },
    async (req) => secrets.delete(req.params.secret_ref),
  );
}
