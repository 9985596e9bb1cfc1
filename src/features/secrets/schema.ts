// Wire types of the secrets API (api-core §5.1/§5.6): the write-only AuthSlotRecord and the
// redacted AuthSlotStatus every read returns. The record schema lives with the store
// (src/secrets/slots.ts) because the offline CLI validates the same shape without HTTP.
import { z } from 'zod';
import { AuthSlotRecordSchema } from '../../secrets/slots.ts';

export const AuthSlotRecord = AuthSlotRecordSchema;

export const AuthSlotStatusView = z.object({
  slot_id: z.string(),
  provider: z.string(),
  mode: z.string(),
  summary: z.string(),
  updated_at_ms: z.number(),
  details: z.record(z.string(), z.unknown()),
});

// Checked by the service (400 runtime/invalid_secret_ref) so the error names the rule.
export const SecretParams = z.object({ secret_ref: z.string() });

export const SecretDeleteResponse = z.object({ accepted: z.literal(true) });
