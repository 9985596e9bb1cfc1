// Wire types of the boards API (api-collab §5): the contract, also in /v1/openapi.json. The view
// fields are ours (the spec leaves them open, docs/decisions.md #410).
import { z } from 'zod';

const metadata = z.record(z.string(), z.unknown());
const id = z.string().trim().min(1).max(200);

export const CreateBoardRequest = z
  .object({
    board_id: id.optional(),
    display_name: z.string().trim().min(1).max(256).optional(),
    owner_session_id: id.nullable().optional(),
    metadata: metadata.nullable().optional(),
  })
  .strict();

export const UpdateBoardRequest = z
  .object({
    display_name: z.string().trim().min(1).max(256).optional(),
    metadata: metadata.nullable().optional(),
  })
  .strict();

export const CreateRevisionRequest = z
  .object({
    previous_revision_id: id.nullable().optional(),
    client_revision_id: id.nullable().optional(),
    render_asset_id: id,
    state_asset_id: id.nullable().optional(),
    note: z
      .string()
      .max(16 * 1024)
      .nullable()
      .optional(),
    source_session_id: id.nullable().optional(),
    source_run_id: id.nullable().optional(),
    metadata: metadata.nullable().optional(),
  })
  .strict();

export const BoardParams = z.object({ board_id: z.string().min(1) });
export const RevisionParams = z.object({ board_id: z.string().min(1), revision_id: z.string().min(1) });
export const ListBoardsQuery = z.object({
  query: z.string().optional(),
  owner_session_id: z.string().optional(),
});

export const BoardView = z
  .object({
    board_id: z.string(),
    display_name: z.string(),
    owner_session_id: z.string().nullable(),
    metadata: metadata.nullable(),
    latest_revision_id: z.string().nullable(),
    latest_render_asset_id: z.string().nullable(),
    latest_state_asset_id: z.string().nullable(),
    revision_count: z.number().int(),
    quarantined_revision_count: z.number().int(),
    created_at_ms: z.number().int(),
    updated_at_ms: z.number().int(),
  })
  .meta({ id: 'BoardView' });

export const BoardRevisionView = z
  .object({
    revision_id: z.string(),
    board_id: z.string(),
    sequence: z.number().int(),
    previous_revision_id: z.string().nullable(),
    client_revision_id: z.string().nullable(),
    render_asset_id: z.string(),
    state_asset_id: z.string().nullable(),
    note: z.string().nullable(),
    source_session_id: z.string().nullable(),
    source_run_id: z.string().nullable(),
    metadata: metadata.nullable(),
    status: z.enum(['accepted', 'quarantined']),
    quarantine_reason: z.string().nullable(),
    created_at_ms: z.number().int(),
  })
  .meta({ id: 'BoardRevisionView' });

export type CreateBoardRequest = z.infer<typeof CreateBoardRequest>;
export type UpdateBoardRequest = z.infer<typeof UpdateBoardRequest>;
export type CreateRevisionRequest = z.infer<typeof CreateRevisionRequest>;
export type BoardView = z.infer<typeof BoardView>;
export type BoardRevisionView = z.infer<typeof BoardRevisionView>;
