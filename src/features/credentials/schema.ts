// Wire types of /v1/runtime/auth (ops-runtime §5.3/§5.5): AuthSubjectStatus, CredentialLeaseStatus,
// a slot revocation's answer. Lease tokens and their digests never appear here.
import { z } from 'zod';

export const SubjectParams = z.object({ subject_id: z.string().min(1).max(300) });
export const LeaseParams = z.object({ lease_id: z.string().min(1).max(200) });
export const SlotParams = z.object({ slot_id: z.string().min(1).max(300) });

export const AuthSubjectStatusView = z.object({
  subject_id: z.string(),
  current_epoch: z.number(),
  revoked: z.boolean(),
  active_connector_lease_ids: z.array(z.string()),
  active_route_lease_ids: z.array(z.string()),
  active_mcp_lease_ids: z.array(z.string()),
});

export const CredentialLeaseStatusView = z.object({
  lease: z.object({
    id: z.string(),
    grant_id: z.string(),
    subject_id: z.string(),
    subject_epoch: z.number(),
    audience: z.record(z.string(), z.unknown()),
    issued_at_ms: z.number(),
    expires_at_ms: z.number(),
  }),
  revoked: z.boolean(),
  active: z.boolean(),
});

export const SlotRevocationView = z.object({
  slot_id: z.string(),
  revoked: z.literal(true),
  revoked_lease_ids: z.array(z.string()),
});
