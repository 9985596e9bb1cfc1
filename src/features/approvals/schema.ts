// Wire types of approval resolution.
import { z } from 'zod';

export const ApprovalResolution = z
  .object({
    request_id: z.string().min(1),
    behavior: z.enum(['allow', 'deny']),
    updated_input: z.record(z.string(), z.unknown()).optional(),
    justification: z.string().optional(),
    reason: z.string().optional(),
    /** Extension: `session` adds an allow rule for this tool to the session (allow only). */
    remember: z.enum(['session']).optional(),
    /** Extension, for outcome_unknown_after_restart: record this as the tool's result instead of re-running it. */
    result: z.string().optional(),
  })
  .strict();

export const ResolveApprovalsRequest = z
  .object({ idempotency_key: z.string().optional(), resolutions: z.array(ApprovalResolution) })
  .strict();

export type ApprovalResolution = z.infer<typeof ApprovalResolution>;
export type ResolveApprovalsRequest = z.infer<typeof ResolveApprovalsRequest>;
