// Wire types of submissions and runs.
import { z } from 'zod';
import { BudgetSchema } from '../../engine/budgets.ts';
import { GenerationConfig, OutputContractInput } from '../sessions/schema.ts';

// Emptiness of these fields is checked by the service, to answer with sessions/invalid_input.
const nonEmpty = z.string();

export const InputItem = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text'), text: z.string() }).strict(),
  z.object({ type: z.literal('asset_reference'), asset_id: nonEmpty }).strict(),
  z
    .object({ type: z.literal('board_reference'), board_id: nonEmpty, revision_id: z.string().optional() })
    .strict(),
  z
    .object({
      type: z.literal('inline_asset'),
      file_name: nonEmpty,
      media_type: z.string().optional(),
      content_base64: nonEmpty,
    })
    .strict(),
]);

export const Attachment = z.discriminatedUnion('type', [
  z.object({ type: z.literal('asset_reference'), asset_id: nonEmpty }).strict(),
  z
    .object({
      type: z.literal('inline_asset'),
      file_name: nonEmpty,
      media_type: z.string().optional(),
      content_base64: nonEmpty,
    })
    .strict(),
]);

export const SubmitInputRequest = z
  .object({
    provider: z.string().min(1).optional(),
    route_id: z.string().min(1).optional(),
    source_plugin: z.string().optional(),
    source_kind: z.string().optional(),
    actor_id: z.string().optional(),
    content: z.string().optional(),
    input_items: z.array(InputItem).optional(),
    attachments: z.array(Attachment).optional(),
    generation: GenerationConfig.optional(),
    completion_requirements: z
      .array(z.object({ type: z.literal('workspace_file'), path: nonEmpty }).strict())
      .optional(),
    metadata: z.unknown().optional(),
    binding_keys: z.array(z.string()).optional(),
    reply_targets: z.array(z.record(z.string(), z.unknown())).optional(),
    reply_plugin: z.string().optional(),
    reply_address: z.string().optional(),
    /** Extension: hard limits for this run (turns, tokens, cost, wall time). */
    budget: BudgetSchema.optional(),
    /** Extension: an output contract for this run only (else the session's applies). */
    output_contract: OutputContractInput.optional(),
  })
  .strict();

export const SubmitRunRequest = SubmitInputRequest.extend({
  idempotency_key: z.string().optional(),
}).strict();

export const RunParams = z.object({ run_id: z.string().min(1) });
export const SessionRunParams = z.object({ session_id: z.string().min(1) });

export const ListRunsQuery = z.object({
  session_id: z.string().optional(),
  limit: z.string().optional(),
  priority_active: z.string().optional(),
  page: z.string().optional(),
  cursor: z.string().optional(),
  order: z.string().optional(),
});

export const RunView = z
  .object({
    run_id: z.string(),
    session_id: z.string(),
    agent_id: z.string(),
    kind: z.string(),
    status: z.enum([
      'queued',
      'running',
      'waiting_for_approval',
      'waiting_for_user_question',
      'completed',
      'failed',
      'interrupted',
      'cancelled',
    ]),
    submitted_at_ms: z.number(),
    updated_at_ms: z.number(),
    started_at_ms: z.number().optional(),
    finished_at_ms: z.number().optional(),
    queued_position: z.number().optional(),
    request: z.record(z.string(), z.unknown()),
    outputs: z.array(z.record(z.string(), z.unknown())).optional(),
    error: z.string().optional(),
  })
  .passthrough()
  .meta({ id: 'RunView' });

export type SubmitRunRequest = z.infer<typeof SubmitRunRequest>;
