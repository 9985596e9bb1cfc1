// Wire types of the learnings API (api-collab §4.2–4.4). Bodies are parsed loosely here (zod) and
// checked by the service, so every refusal names the rule it broke with one learnings/* code.
import { z } from 'zod';

export const SCOPE_KINDS = ['session', 'persona', 'project', 'workspace'] as const;
export const LEARNING_KINDS = ['run_summary', 'fact', 'preference', 'decision', 'procedure'] as const;
export const SEMANTIC_KINDS = ['fact', 'preference', 'decision'] as const;
export const SENSITIVITIES = ['scoped', 'sensitive'] as const;
export const CANDIDATE_STATES = ['pending', 'escalated', 'published', 'rejected'] as const;
export const LEARNING_STATUSES = ['active', 'provisional', 'revoked', 'superseded', 'expired'] as const;
export const PUBLISH_TIERS = ['active', 'provisional'] as const;
export const VERIFICATION_STATUSES = ['unverified', 'verified', 'failed'] as const;
export const POLICY_DECISIONS = ['manual', 'automatic', 'escalated'] as const;
export const POLICY_ACTORS = ['operator', 'policy', 'judge'] as const;
export const ORIGINS = ['api', 'daemon'] as const;

/** Longest content of a candidate or learning (characters). */
export const CONTENT_LIMIT = 1600;

export const Scope = z.object({ kind: z.enum(SCOPE_KINDS), id: z.string().optional() }).strict();
export type ScopeInput = z.infer<typeof Scope>;

const Source = z.object({ session_id: z.string().min(1).optional(), run_id: z.string().min(1).optional() });
const EvidenceRefs = z.array(z.unknown()).max(32);
const ExpiresAt = z.number().int().positive().nullable().optional();

export const CreateCandidateRequest = z
  .object({
    scope: Scope,
    kind: z.enum(LEARNING_KINDS),
    sensitivity: z.enum(SENSITIVITIES).optional(),
    content: z.string(),
    confidence: z.number().int().optional(),
    source: Source.strict().optional(),
    evidence_refs: EvidenceRefs.optional(),
    expires_at_ms: ExpiresAt,
  })
  .strict();
export type CreateCandidateRequest = z.infer<typeof CreateCandidateRequest>;

export const PublishCandidateRequest = z
  .object({
    scope: Scope.optional(),
    kind: z.enum(LEARNING_KINDS).optional(),
    sensitivity: z.enum(SENSITIVITIES).optional(),
    content: z.string().optional(),
    confidence: z.number().int().optional(),
    expires_at_ms: ExpiresAt,
    publish_tier: z.enum(PUBLISH_TIERS).optional(),
    evidence_refs: EvidenceRefs.optional(),
    supersedes: z.string().min(1).optional(),
  })
  .strict()
  .nullish();
export type PublishCandidateRequest = NonNullable<z.infer<typeof PublishCandidateRequest>>;

export const ReasonRequest = z
  .object({ reason: z.string().max(1000).optional() })
  .strict()
  .nullish();

export const SupersedeRequest = z
  .object({
    scope: Scope.optional(),
    kind: z.enum(LEARNING_KINDS).optional(),
    sensitivity: z.enum(SENSITIVITIES).optional(),
    content: z.string(),
    confidence: z.number().int().optional(),
    expires_at_ms: ExpiresAt,
  })
  .strict();
export type SupersedeRequest = z.infer<typeof SupersedeRequest>;

const ScopeFilter = {
  query: z.string().optional(),
  scope_kind: z.enum(SCOPE_KINDS).optional(),
  scope_id: z.string().optional(),
  kind: z.enum(LEARNING_KINDS).optional(),
};
const Paging = { page: z.string().optional(), cursor: z.string().optional(), limit: z.string().optional() };

export const ListCandidatesQuery = z.object({
  ...ScopeFilter,
  state: z.enum(CANDIDATE_STATES).optional(),
  ...Paging,
});
export type ListCandidatesQuery = z.infer<typeof ListCandidatesQuery>;

const LearningFilter = {
  ...ScopeFilter,
  status: z.enum(LEARNING_STATUSES).optional(),
  policy_decision: z.enum(POLICY_DECISIONS).optional(),
  policy_actor: z.enum(POLICY_ACTORS).optional(),
  matched_rule_name: z.string().optional(),
};
export const ListLearningsQuery = z.object({ ...LearningFilter, ...Paging });
export type LearningFilters = z.infer<typeof ListLearningsQuery>;

/** Bulk revoke: the list filters, a reason, and `all: true` to allow an empty filter set. */
export const RevokeMatchingRequest = z
  .object({ ...LearningFilter, reason: z.string().max(1000).optional(), all: z.boolean().optional() })
  .strict();
export type RevokeMatchingRequest = z.infer<typeof RevokeMatchingRequest>;

export const CandidateParams = z.object({ candidate_id: z.string() });
export const LearningParams = z.object({ learning_id: z.string() });

export type CandidateState = (typeof CANDIDATE_STATES)[number];
export type Origin = (typeof ORIGINS)[number];

export interface JudgeReview {
  action: string;
  judged_at_ms: number;
  reason: string | null;
}

export interface AutomationReview {
  mode: string;
  action: string;
  reviewed_at_ms: number;
  matched_rule_name: string | null;
  judge: JudgeReview | null;
  reason: string | null;
}

export interface CandidateView {
  candidate_id: string;
  origin: Origin;
  state: CandidateState;
  scope: { kind: string; id: string };
  kind: string;
  sensitivity: string;
  content: string;
  confidence: number;
  source: Record<string, unknown>;
  evidence_refs: unknown[];
  expires_at_ms: number | null;
  automation_review: AutomationReview | null;
  published_learning_id: string | null;
  reject_reason: string | null;
  created_at_ms: number;
  updated_at_ms: number;
}
