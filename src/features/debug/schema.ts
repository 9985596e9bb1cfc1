// Wire types of the run debug surfaces (api-core §3.13).
import { z } from 'zod';
import { DaemonError } from '../../errors/daemon-error.ts';
import type { PruneRequest } from './service.ts';

export const DebugParams = z.object({ run_id: z.string().min(1) });
export const ArtifactParams = z.object({ run_id: z.string().min(1), artifact_id: z.string().min(1) });

export const DebugArtifactView = z.object({
  artifact_id: z.string(),
  format: z.string(),
  updated_at_ms: z.number(),
  bytes: z.number(),
  plaintext_bytes: z.number(),
  sha256: z.string(),
  truncated: z.boolean(),
  original_bytes: z.number().optional(),
  encrypted: z.boolean(),
  key_id: z.string().optional(),
});

export const RunDebugView = z.object({
  run_id: z.string(),
  level: z.string(),
  artifacts: z.array(DebugArtifactView),
});

export const RunRetentionPruneResponse = z.object({
  dry_run: z.boolean(),
  now_ms: z.number(),
  cutoff_ms: z.number(),
  limit: z.number().optional(),
  matched_run_count: z.number(),
  candidate_run_ids: z.array(z.string()),
  candidate_debug_bytes: z.number(),
  pruned_debug_run_ids: z.array(z.string()),
  pruned_debug_bytes: z.number(),
  /** With `release_assets`: the terminal runs whose asset references were (or would be) dropped. */
  released_asset_run_ids: z.array(z.string()).optional(),
  released_asset_reference_count: z.number().optional(),
});

const positive = z.number().int().positive();
const PruneBody = z
  .object({
    older_than_ms: positive,
    session_id: z.string().min(1).optional(),
    limit: positive.optional(),
    dry_run: z.boolean().optional(),
    // Extension (decision 209): also drop the matched terminal runs' asset references.
    release_assets: z.boolean().optional(),
  })
  .strict();

/** RunRetentionPruneRequest, or 400 runs/run_retention_invalid_request whatever is wrong with it. */
export function pruneRequest(body: unknown): PruneRequest {
  const parsed = PruneBody.safeParse(body ?? {});
  if (!parsed.success)
    throw new DaemonError(
      400,
      'runs',
      'run_retention_invalid_request',
      parsed.error.issues
        .map(
          (i) =>
            `${i.path.join('.') || 'body'}: ${i.path[0] === 'older_than_ms' || i.path[0] === 'limit' ? 'must be a whole number greater than 0' : i.message}`,
        )
        .join('; '),
    );
  return parsed.data;
}
