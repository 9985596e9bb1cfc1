// What other features may ask of the learning plane (api-collab §4): the stored learnings of some
// scopes, for the memory feature to rank into `learned_context` and memory search. The learnings
// feature owns the records and their lifecycle; eligibility for a prompt is a projection rule the
// memory feature applies (api-core §3.5), so this port hands over every live record with the
// fields those rules read.

export type LearningScopeKind = 'session' | 'persona' | 'project' | 'workspace';

/** A `workspace` scope's id is always `default`. */
export interface LearningScope {
  kind: LearningScopeKind;
  id: string;
}

export type LearningKind = 'run_summary' | 'fact' | 'preference' | 'decision' | 'procedure';
export type LearningSensitivity = 'scoped' | 'sensitive';
export type LearningStatus = 'active' | 'provisional' | 'revoked' | 'superseded' | 'expired';
export type PublishTier = 'active' | 'provisional';
export type VerificationStatus = 'unverified' | 'verified' | 'failed';
export type PolicyDecision = 'manual' | 'automatic' | 'escalated';
export type PolicyActor = 'operator' | 'policy' | 'judge';

export interface LearningRecord {
  learning_id: string;
  scope: LearningScope;
  kind: LearningKind;
  sensitivity: LearningSensitivity;
  content: string;
  confidence: number;
  status: LearningStatus;
  publish_tier: PublishTier;
  verification_status: VerificationStatus;
  policy_decision: PolicyDecision;
  policy_actor: PolicyActor;
  /** `{session_id?, run_id?}` of the candidate it came from. */
  source: Record<string, unknown>;
  evidence_refs: unknown[];
  supersedes: string | null;
  superseded_by: string | null;
  created_at_ms: number;
  updated_at_ms: number;
  expires_at_ms: number | null;
}

export interface LearningsPort {
  /**
   * Learnings stored in any of these scopes whose status is `active` or `provisional` and that have
   * not expired at `nowMs`, newest first. The caller applies the prompt and search projections.
   */
  liveInScopes(scopes: readonly LearningScope[], nowMs: number): Promise<LearningRecord[]>;
}

/** The feature name to `use` it by. */
export const LEARNINGS_FEATURE = 'learnings';
