// Table types of the learning plane (api-collab §4, issue 19), migration 0036. JSON columns hold
// JSON text; booleans are 0/1; times are epoch milliseconds.

/** A proposed learning awaiting review: created through the API or captured by the daemon. */
export interface LearningCandidatesTable {
  candidate_id: string;
  origin: string;
  state: string;
  scope_kind: string;
  scope_id: string;
  kind: string;
  sensitivity: string;
  content: string;
  confidence: number;
  source: string;
  evidence_refs: string;
  expires_at_ms: number | null;
  /** Deterministic key of the content's subject/value (equivalent phrasings share it). */
  semantic_key: string;
  /** The run a daemon capture came from; with semantic_key, unique (no duplicate capture). */
  capture_run_id: string | null;
  /** AutomationReview JSON, null until the automation worker reviewed the candidate. */
  automation_review: string | null;
  published_learning_id: string | null;
  reject_reason: string | null;
  created_at_ms: number;
  updated_at_ms: number;
}

/** A published learning: the durable record prompt projections and promoted skills read. */
export interface LearningsTable {
  learning_id: string;
  candidate_id: string | null;
  scope_kind: string;
  scope_id: string;
  kind: string;
  sensitivity: string;
  content: string;
  confidence: number;
  status: string;
  publish_tier: string;
  verification_status: string;
  policy_decision: string;
  policy_actor: string;
  matched_rule_name: string | null;
  source: string;
  evidence_refs: string;
  semantic_key: string;
  /** Key of the content's subject alone (null when it has none): conflicts share it. */
  subject_key: string | null;
  supersedes: string | null;
  superseded_by: string | null;
  revoke_reason: string | null;
  revoked_at_ms: number | null;
  expires_at_ms: number | null;
  created_at_ms: number;
  updated_at_ms: number;
}
