// Wire types of the memory views (api-core §3.5) and the run-memory policy (api-core §5.6).
import { z } from 'zod';
import { SEARCH_VISIBILITIES } from './policy.ts';

export const RunMemoryPolicyView = z
  .object({
    enabled: z.boolean(),
    retention_ms: z.number().int(),
    max_tracked_per_session: z.number().int(),
    max_prompt_entries: z.number().int(),
    redact_pii: z.boolean(),
    search_visibility: z.enum(SEARCH_VISIBILITIES),
  })
  .meta({ id: 'RunMemoryPolicy' });

export const MemoryContextQuery = z.object({ query: z.string().max(4000).optional() });

export const MemorySearchQuery = z.object({
  query: z.string().max(4000).optional(),
  // Out-of-range limits are clamped (1..50), not refused.
  limit: z.coerce.number().int().optional(),
});

const Scope = z.object({ kind: z.enum(['session', 'persona', 'project', 'workspace']), id: z.string() });

export const MemorySearchResult = z
  .object({
    kind: z.enum(['learning', 'recovered_run', 'skill']),
    source_id: z.string(),
    title: z.string(),
    excerpt: z.string(),
    score: z.number(),
    timestamp_ms: z.number().int(),
    scope: Scope.optional(),
    prompt_eligible: z.boolean(),
    learning_status: z.string().optional(),
    publish_tier: z.string().optional(),
    verification_status: z.string().optional(),
    matched_fields: z.array(z.string()),
  })
  .meta({ id: 'SessionMemorySearchResult' });

export const SessionMemorySearchView = z
  .object({
    session_id: z.string(),
    effective_capability_scope: z.unknown(),
    learning_scopes: z.array(Scope),
    query: z.string().optional(),
    truncated: z.boolean(),
    results: z.array(MemorySearchResult),
  })
  .meta({ id: 'SessionMemorySearchView' });

export const SessionMemoryContextView = z
  .object({
    session_id: z.string(),
    effective_capability_scope: z.unknown(),
    learning_scopes: z.array(Scope),
    query: z.string().optional(),
    learned_context: z.array(z.record(z.string(), z.unknown())),
    recovered_memory: z.array(z.record(z.string(), z.unknown())),
    visible_skills: z.array(z.unknown()),
  })
  .meta({ id: 'SessionMemoryContextView' });
