// The learning automation policy (api-collab §4.5): its shape with defaults, the body forms
// `POST /v1/runtime/learning-policy` takes (wrapped `{policy, expected_revision}` or the legacy
// flat object), and every validation rule. Stored as the `learning_policy` runtime setting, so it
// is revisioned, CAS-guarded and rolled back like every runtime setting.
import { z } from 'zod';
import { learningErrors as E } from './errors.ts';
import { LEARNING_KINDS, SCOPE_KINDS, SENSITIVITIES } from './schema.ts';

export const MODES = ['manual_only', 'shadow', 'enabled'] as const;
export const ACTIONS = ['manual_review', 'reject', 'publish_provisional', 'publish_active'] as const;
export type PolicyMode = (typeof MODES)[number];
export type PolicyAction = (typeof ACTIONS)[number];

const timeout = z.number().int().positive().nullable().optional();

const Rule = z
  .object({
    name: z.string().nullable().optional(),
    scope_kind: z.enum(SCOPE_KINDS).nullable().optional(),
    scope_id: z.string().min(1).nullable().optional(),
    kind: z.enum(LEARNING_KINDS).nullable().optional(),
    sensitivity: z.enum(SENSITIVITIES).nullable().optional(),
    min_confidence: z.number().int().min(0).max(100).nullable().optional(),
    require_evidence: z.boolean().optional(),
    require_source_run: z.boolean().optional(),
    require_source_session: z.boolean().optional(),
    action: z.enum(ACTIONS),
    expires_after_ms: z.number().int().positive().nullable().optional(),
  })
  .strict();

const PolicyShape = z
  .object({
    mode: z.enum(MODES).optional(),
    capture: z
      .object({
        run_summary_candidates: z.boolean().optional(),
        semantic_candidates: z
          .object({
            enabled: z.boolean().optional(),
            model: z.string().min(1).nullable().optional(),
            timeout_ms: timeout,
            max_candidates_per_run: z.number().int().min(1).max(8).optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
    publication: z
      .object({
        default_action: z.enum(ACTIONS).optional(),
        allow_api_origin_active_publication: z.boolean().optional(),
        quarantined_rule_names: z.array(z.string()).optional(),
        rules: z.array(Rule).optional(),
      })
      .strict()
      .optional(),
    judge: z
      .object({
        enabled: z.boolean().optional(),
        model: z.string().min(1).nullable().optional(),
        timeout_ms: timeout,
      })
      .strict()
      .optional(),
  })
  .strict();

export interface PolicyRule {
  name: string | null;
  scope_kind: string | null;
  scope_id: string | null;
  kind: string | null;
  sensitivity: string | null;
  min_confidence: number | null;
  require_evidence: boolean;
  require_source_run: boolean;
  require_source_session: boolean;
  action: PolicyAction;
  expires_after_ms: number | null;
}

export interface LearningPolicy {
  mode: PolicyMode;
  capture: {
    run_summary_candidates: boolean;
    semantic_candidates: {
      enabled: boolean;
      model: string | null;
      timeout_ms: number | null;
      max_candidates_per_run: number;
    };
  };
  publication: {
    default_action: PolicyAction;
    allow_api_origin_active_publication: boolean;
    quarantined_rule_names: string[];
    rules: PolicyRule[];
  };
  judge: { enabled: boolean; model: string | null; timeout_ms: number | null };
}

/** The full policy with every default filled (a POST replaces the whole policy). */
export function normalizePolicy(raw: unknown): LearningPolicy {
  const parsed = PolicyShape.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw E.invalidPolicy(`${issue.path.join('.') || 'policy'}: ${issue.message}`);
  }
  const p = parsed.data;
  const sc = p.capture?.semantic_candidates;
  const policy: LearningPolicy = {
    mode: p.mode ?? 'shadow',
    capture: {
      run_summary_candidates: p.capture?.run_summary_candidates ?? true,
      semantic_candidates: {
        enabled: sc?.enabled ?? false,
        model: sc?.model ?? null,
        timeout_ms: sc?.timeout_ms ?? null,
        max_candidates_per_run: sc?.max_candidates_per_run ?? 2,
      },
    },
    publication: {
      default_action: p.publication?.default_action ?? 'manual_review',
      allow_api_origin_active_publication: p.publication?.allow_api_origin_active_publication ?? false,
      quarantined_rule_names: p.publication?.quarantined_rule_names ?? [],
      rules: (p.publication?.rules ?? []).map((r) => ({
        name: r.name ?? null,
        scope_kind: r.scope_kind ?? null,
        // A workspace rule without an id means the one workspace scope.
        scope_id: r.scope_id ?? (r.scope_kind === 'workspace' ? 'default' : null),
        kind: r.kind ?? null,
        sensitivity: r.sensitivity ?? null,
        min_confidence: r.min_confidence ?? null,
        require_evidence: r.require_evidence ?? false,
        require_source_run: r.require_source_run ?? false,
        require_source_session: r.require_source_session ?? false,
        action: r.action,
        expires_after_ms: r.expires_after_ms ?? null,
      })),
    },
    judge: {
      enabled: p.judge?.enabled ?? false,
      model: p.judge?.model ?? null,
      timeout_ms: p.judge?.timeout_ms ?? null,
    },
  };
  checkPolicy(policy);
  return policy;
}

function checkPolicy(p: LearningPolicy): void {
  const pub = p.publication;
  if (pub.default_action === 'publish_active')
    throw E.invalidPolicy(
      'publication.default_action cannot be publish_active: active publication needs a rule naming a kind',
    );
  const names = pub.quarantined_rule_names;
  if (names.some((n) => n.trim() === ''))
    throw E.invalidPolicy('publication.quarantined_rule_names holds an empty name');
  if (new Set(names).size !== names.length)
    throw E.invalidPolicy('publication.quarantined_rule_names holds the same name twice');
  pub.rules.forEach((r, i) => {
    const at = `publication.rules[${i}]`;
    if (r.name !== null && r.name.trim() === '') throw E.invalidPolicy(`${at}.name is empty`);
    if (r.scope_id !== null && r.scope_kind === null)
      throw E.invalidPolicy(`${at}.scope_id needs scope_kind`);
    if (r.scope_kind === 'workspace' && r.scope_id !== 'default')
      throw E.invalidPolicy(`${at}: the workspace scope id is always default`);
    if (r.action === 'publish_active') {
      if (r.kind === null) throw E.invalidPolicy(`${at}: a publish_active rule must name a kind`);
      if (r.kind === 'procedure')
        throw E.invalidPolicy(`${at}: publish_active is never allowed for procedure learnings`);
    }
  });
}

/** The default policy (mode shadow, run-summary capture on, semantic capture off). */
export const defaultPolicy = (): LearningPolicy => normalizePolicy({});

/**
 * `{policy, expected_revision?, skip_hooks?}` or a legacy flat policy; a body with only
 * `expected_revision` is refused. `skip_hooks` passes blocking `config_change` hooks, as on every
 * runtime setting.
 */
export function parsePolicyBody(body: unknown): {
  policy: LearningPolicy;
  expected_revision?: number;
  skip_hooks?: boolean;
} {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw E.invalidPolicy('the body must be a JSON object');
  const b = body as Record<string, unknown>;
  const er = b.expected_revision;
  if (er !== undefined && (typeof er !== 'number' || !Number.isInteger(er) || er < 0))
    throw E.invalidPolicy('expected_revision must be a whole number');
  const expected_revision = er as number | undefined;
  if (b.skip_hooks !== undefined && typeof b.skip_hooks !== 'boolean')
    throw E.invalidPolicy('skip_hooks must be a boolean');
  const skip_hooks = b.skip_hooks as boolean | undefined;
  if ('policy' in b) {
    const extra = Object.keys(b).filter((k) => !['policy', 'expected_revision', 'skip_hooks'].includes(k));
    if (extra.length) throw E.invalidPolicy(`unknown field(s) ${extra.join(', ')} beside \`policy\``);
    if (!b.policy || typeof b.policy !== 'object' || Array.isArray(b.policy))
      throw E.invalidPolicy('policy must be a JSON object');
    return { policy: normalizePolicy(b.policy), expected_revision, skip_hooks };
  }
  const { expected_revision: _er, skip_hooks: _sh, ...flat } = b;
  if (Object.keys(flat).length === 0)
    throw E.invalidPolicy(
      'the body holds no policy: send `{"policy": {...}, "expected_revision": N}` (a POST replaces the whole policy; nothing is reset implicitly)',
    );
  return { policy: normalizePolicy(flat), expected_revision, skip_hooks };
}
