// HTTP binding of /v1/runtime/auth: admin-only when auth is on (src/http/auth.ts lets a read-only
// token read only its allow-list, and these paths are not on it).
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { HttpApp } from '../../http/context.ts';
import { clientGone } from '../../http/disconnect.ts';
import { AuthSlotStatusView, SecretDeleteResponse } from '../secrets/schema.ts';
import type { SecretsService } from '../secrets/service.ts';
import {
  AuthSubjectStatusView,
  CredentialLeaseStatusView,
  LeaseParams,
  SlotParams,
  SlotRevocationView,
  SubjectParams,
} from './schema.ts';
import type { CredentialsService } from './service.ts';

export function registerCredentialRoutes(
  app: HttpApp,
  creds: CredentialsService,
  secrets: SecretsService,
): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['auth'];
  r.get(
    '/v1/runtime/auth/subjects/:subject_id',
    { schema: { tags, params: SubjectParams, response: { 200: AuthSubjectStatusView } } },
    async (req) => creds.subject(req.params.subject_id),
  );
  r.post(
    '/v1/runtime/auth/subjects/:subject_id/revoke',
    { schema: { tags, params: SubjectParams, response: { 200: AuthSubjectStatusView } } },
    async (req) => creds.revokeSubject(req.params.subject_id),
  );
  r.get(
    '/v1/runtime/auth/leases/:lease_id',
    { schema: { tags, params: LeaseParams, response: { 200: CredentialLeaseStatusView } } },
    async (req) => creds.lease(req.params.lease_id),
  );
  r.post(
    '/v1/runtime/auth/leases/:lease_id/revoke',
    { schema: { tags, params: LeaseParams, response: { 200: CredentialLeaseStatusView } } },
    async (req) => creds.revokeLease(req.params.lease_id),
  );
  r.post(
    '/v1/runtime/auth/slots/:slot_id/revoke',
    { schema: { tags, params: SlotParams, response: { 200: SlotRevocationView } } },
    async (req) => creds.revokeSlot(req.params.slot_id),
  );
  r.get(
    '/v1/runtime/auth/accounts',
    { schema: { tags, response: { 200: AuthSlotStatusView.array() } } },
    async () => creds.accounts(),
  );
  r.get(
    '/v1/runtime/auth/accounts/:slot_id',
    { schema: { tags, params: SlotParams, response: { 200: AuthSlotStatusView } } },
    async (req) => creds.account(req.params.slot_id),
  );
  r.post(
    '/v1/runtime/auth/accounts/:slot_id/revoke',
    { schema: { tags, params: SlotParams, response: { 200: SlotRevocationView } } },
    async (req) => {
      await creds.account(req.params.slot_id);
      return creds.revokeSlot(req.params.slot_id);
    },
  );
  r.post(
    '/v1/runtime/auth/accounts/:slot_id/refresh',
    { schema: { tags, params: SlotParams, response: { 200: AuthSlotStatusView } } },
    async (req, reply) => creds.refreshAccount(req.params.slot_id, clientGone(reply)),
  );
  r.delete(
    '/v1/runtime/auth/accounts/:slot_id',
    { schema: { tags, params: SlotParams, response: { 200: SecretDeleteResponse } } },
    async (req) => {
      await creds.account(req.params.slot_id);
      return secrets.delete(req.params.slot_id);
    },
  );
}
