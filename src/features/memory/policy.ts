// The run-memory policy (api-core §5.6, ops-runtime §11): a revisioned runtime setting. A POST is a
// full replacement (`{policy, expected_revision?}`, or the policy's fields flat); fields left out
// take their defaults. Anything else — no policy field at all, an unknown field, a bad value — is
// `400 runtime/invalid_run_memory_policy` and leaves the revision unchanged.
import { DaemonError } from '../../errors/daemon-error.ts';
import { DEFAULT_SEMANTIC_SEARCH, type SemanticSearchSettings } from './semantic.ts';

export const SEARCH_VISIBILITIES = ['session_only', 'learning_scopes'] as const;
export type SearchVisibility = (typeof SEARCH_VISIBILITIES)[number];

export interface RunMemoryPolicy {
  enabled: boolean;
  retention_ms: number;
  max_tracked_per_session: number;
  max_prompt_entries: number;
  redact_pii: boolean;
  search_visibility: SearchVisibility;
  /** Our extension (decision 453): embedding-blended memory search; off by default. */
  semantic_search: SemanticSearchSettings;
}

export const DEFAULT_RUN_MEMORY_POLICY: Readonly<RunMemoryPolicy> = Object.freeze({
  enabled: true,
  retention_ms: 2_592_000_000,
  max_tracked_per_session: 32,
  max_prompt_entries: 3,
  redact_pii: true,
  search_visibility: 'session_only',
  semantic_search: DEFAULT_SEMANTIC_SEARCH,
});

const FIELDS = Object.keys(DEFAULT_RUN_MEMORY_POLICY) as Array<keyof RunMemoryPolicy>;

const bad = (detail: string) => new DaemonError(400, 'runtime', 'invalid_run_memory_policy', detail);

/** A persisted value made whole (a record from an older build may lack a field). */
export function policyOf(value: unknown): RunMemoryPolicy {
  if (!value || typeof value !== 'object') return { ...DEFAULT_RUN_MEMORY_POLICY };
  const v = value as Partial<RunMemoryPolicy>;
  return {
    ...DEFAULT_RUN_MEMORY_POLICY,
    ...v,
    semantic_search: { ...DEFAULT_SEMANTIC_SEARCH, ...(v.semantic_search ?? {}) },
  };
}

/** Checks one policy object (every field optional, defaults filled in). */
export function validatePolicy(raw: unknown): RunMemoryPolicy {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw bad('`policy` must be a JSON object');
  const given = raw as Record<string, unknown>;
  const unknown = Object.keys(given).filter((k) => !FIELDS.includes(k as keyof RunMemoryPolicy));
  if (unknown.length) throw bad(`unknown field(s): ${unknown.join(', ')}`);
  if (Object.keys(given).length === 0) throw bad('the policy is empty: send every field you want set');
  const p = { ...DEFAULT_RUN_MEMORY_POLICY, ...given } as Record<string, unknown>;
  for (const k of ['enabled', 'redact_pii'] as const)
    if (typeof p[k] !== 'boolean') throw bad(`\`${k}\` must be a boolean`);
  for (const k of ['retention_ms', 'max_tracked_per_session', 'max_prompt_entries'] as const)
    if (typeof p[k] !== 'number' || !Number.isSafeInteger(p[k])) throw bad(`\`${k}\` must be a whole number`);
  if (!SEARCH_VISIBILITIES.includes(p.search_visibility as SearchVisibility))
    throw bad('`search_visibility` must be `session_only` or `learning_scopes`');
  p.semantic_search = semanticOf(p.semantic_search);
  const policy = p as unknown as RunMemoryPolicy;
  if (policy.enabled) {
    for (const k of ['retention_ms', 'max_tracked_per_session', 'max_prompt_entries'] as const)
      if (policy[k] <= 0) throw bad(`\`${k}\` must be greater than 0 while memory is enabled`);
    if (policy.max_prompt_entries > policy.max_tracked_per_session)
      throw bad('`max_prompt_entries` may not exceed `max_tracked_per_session`');
  } else {
    for (const k of ['retention_ms', 'max_tracked_per_session', 'max_prompt_entries'] as const)
      if (policy[k] < 0) throw bad(`\`${k}\` may not be negative`);
  }
  return policy;
}

function semanticOf(raw: unknown): SemanticSearchSettings {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw bad('`semantic_search` must be an object');
  const given = raw as Record<string, unknown>;
  const unknown = Object.keys(given).filter((k) => !['enabled', 'route', 'model'].includes(k));
  if (unknown.length) throw bad(`unknown field(s) in \`semantic_search\`: ${unknown.join(', ')}`);
  const s = { ...DEFAULT_SEMANTIC_SEARCH, ...given } as Record<string, unknown>;
  if (typeof s.enabled !== 'boolean') throw bad('`semantic_search.enabled` must be a boolean');
  for (const k of ['route', 'model'] as const)
    if (s[k] !== null && (typeof s[k] !== 'string' || (s[k] as string).trim() === ''))
      throw bad(`\`semantic_search.${k}\` must be a non-empty string or null`);
  if (s.enabled && (s.route === null || s.model === null))
    throw bad('`semantic_search` needs a `route` and a `model` when enabled');
  return s as unknown as SemanticSearchSettings;
}

/** The POST body: `{policy, expected_revision?}` or the flat policy; returns both parts. */
export function parsePolicyBody(body: unknown): { policy: RunMemoryPolicy; expected_revision?: number } {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw bad('the body must be a JSON object');
  const b = body as Record<string, unknown>;
  const er = b.expected_revision;
  if (er !== undefined && (typeof er !== 'number' || !Number.isInteger(er) || er < 0))
    throw bad('`expected_revision` must be a whole number');
  if ('policy' in b) {
    const extra = Object.keys(b).filter((k) => k !== 'policy' && k !== 'expected_revision');
    if (extra.length) throw bad(`unknown field(s) beside \`policy\`: ${extra.join(', ')}`);
    return { policy: validatePolicy(b.policy), expected_revision: er as number | undefined };
  }
  const { expected_revision: _cas, ...flat } = b;
  if (Object.keys(flat).length === 0) throw bad('no policy given (only `expected_revision`)');
  return { policy: validatePolicy(flat), expected_revision: er as number | undefined };
}
